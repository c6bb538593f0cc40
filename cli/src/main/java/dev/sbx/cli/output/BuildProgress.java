package dev.sbx.cli.output;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The progress of a base template build ({@code BaseTemplateBuilder}'s lines: its own {@code [base
 * n/3]} steps and every line of mmdebstrap and apt).
 *
 * <p>On a terminal it keeps one line up to date: a bar, the percentage, the stage and the latest
 * line, cut to the terminal's width. Otherwise (a pipe, a log file, CI) it prints every line as it
 * comes. The percentage follows mmdebstrap's stages ({@code I: downloading packages with apt...}
 * etc.); within a stage, apt's {@code Get:}/{@code Unpacking}/{@code Setting up} lines count
 * towards the package total apt announced ({@code N newly installed}), other lines move the bar a
 * little towards the next stage.
 */
public final class BuildProgress implements Consumer<String>, AutoCloseable {
  /** A stage: the line that starts it (a regular expression), where it starts, its name. */
  record Stage(Pattern marker, double start, String name) {
    Stage(String marker, double start, String name) {
      this(Pattern.compile(marker), start, name);
    }
  }

  static final List<Stage> STAGES =
      List.of(
          new Stage("^\\[base 1/3] mmdebstrap:", 0.00, "starting mmdebstrap"),
          new Stage("I: running apt-get update", 0.02, "apt-get update"),
          new Stage("I: downloading packages with apt", 0.08, "downloading packages"),
          new Stage("I: extracting archives", 0.35, "extracting archives"),
          new Stage("I: installing essential packages", 0.42, "installing essential packages"),
          new Stage("I: installing remaining packages", 0.55, "installing packages"),
          new Stage("I: running (--customize-hook|special hook)", 0.88, "customizing"),
          new Stage("I: cleaning package lists", 0.92, "cleaning up"),
          new Stage("I: success", 0.93, "mmdebstrap done"),
          new Stage("^\\[base 2/3]", 0.94, "measuring the rootfs"),
          new Stage("^\\[base 3/3]", 0.97, "installing the template"),
          new Stage("^\\[base] built", 1.00, "done"));

  private static final Pattern NEWLY_INSTALLED = Pattern.compile("(\\d+) newly installed");
  private static final Pattern APT_GET = Pattern.compile("^(?:\\[base 1/3] )?Get:(\\d+) ");
  private static final Pattern APT_STEP =
      Pattern.compile("^(?:\\[base 1/3] )?(?:Unpacking|Setting up) ");
  private static final int BAR_WIDTH = 24;

  private final PrintStream out;
  private final boolean terminal;
  private final IntSupplier width;
  private int stage = -1;
  private double fraction;
  private int packages;
  private int stepsInStage;
  private boolean barShown;

  /**
   * @param out where to print (stderr)
   * @param terminal whether {@code out} is a terminal (bar) or not (plain lines)
   * @param width the terminal's width, asked before each redraw
   */
  public BuildProgress(PrintStream out, boolean terminal, IntSupplier width) {
    this.out = out;
    this.terminal = terminal;
    this.width = width;
  }

  /** Progress on stderr, a bar when stderr is a terminal. */
  public static BuildProgress onStderr() {
    return new BuildProgress(System.err, Terminal.isTerminal(2), Terminal::width);
  }

  /** How far the build is, 0 to 1. */
  public double fraction() {
    return fraction;
  }

  /** The current stage's name, or the empty string before the first one. */
  public String stageName() {
    return stage < 0 ? "" : STAGES.get(stage).name();
  }

  @Override
  public synchronized void accept(String line) {
    advance(line);
    if (!terminal) {
      out.println(line);
      out.flush();
      return;
    }
    if (stage < 0) {
      // before the build starts (e.g. "[base] reusing …"): a plain line
      clearBar();
      out.println(line);
      out.flush();
      return;
    }
    out.print("\r\033[K" + render(line, Math.max(20, width.getAsInt())));
    out.flush();
    barShown = true;
    if (fraction >= 1.0) {
      out.println();
      barShown = false;
    }
  }

  /** Ends the bar's line, if one is shown (e.g. before an error message). */
  @Override
  public synchronized void close() {
    if (barShown) {
      out.println();
      out.flush();
      barShown = false;
    }
  }

  private void clearBar() {
    if (barShown) {
      out.print("\r\033[K");
      barShown = false;
    }
  }

  void advance(String line) {
    for (int i = stage + 1; i < STAGES.size(); i++) {
      if (STAGES.get(i).marker().matcher(line).find()) {
        stage = i;
        fraction = Math.max(fraction, STAGES.get(i).start());
        stepsInStage = 0;
        return;
      }
    }
    if (stage < 0 || stage >= STAGES.size() - 1) {
      return;
    }
    Matcher total = NEWLY_INSTALLED.matcher(line);
    if (total.find()) {
      packages = Math.max(packages, Integer.parseInt(total.group(1)));
      return;
    }
    double start = STAGES.get(stage).start();
    double end = STAGES.get(stage + 1).start();
    double within;
    Matcher get = APT_GET.matcher(line);
    if (packages > 0 && get.find()) {
      within = Math.min(1.0, Integer.parseInt(get.group(1)) / (double) packages);
    } else if (packages > 0 && APT_STEP.matcher(line).find()) {
      stepsInStage++;
      within = Math.min(1.0, stepsInStage / (double) packages);
    } else {
      stepsInStage++;
      // without a total: approach the next stage, never reach it
      within = 1.0 - Math.pow(0.97, stepsInStage);
    }
    fraction = Math.max(fraction, start + (end - start) * within * 0.98);
  }

  /** The bar line for {@code line}, at most {@code columns} characters wide. */
  String render(String line, int columns) {
    int filled = (int) Math.round(fraction * BAR_WIDTH);
    String head =
        "["
            + "#".repeat(filled)
            + "-".repeat(BAR_WIDTH - filled)
            + "] "
            + String.format(java.util.Locale.ROOT, "%3d%%", (int) Math.floor(fraction * 100))
            + " "
            + stageName();
    String detail = line.replaceFirst("^\\[base[^]]*] ", "").replaceFirst("^I: ", "").strip();
    String text = detail.isEmpty() ? head : head + ": " + detail;
    return text.length() <= columns - 1 ? text : text.substring(0, Math.max(0, columns - 2)) + "…";
  }
}
