package dev.sbx.api.template;

import dev.sbx.api.auth.Caller;
import dev.sbx.api.http.ApiException;
import dev.sbx.api.http.Reply;
import dev.sbx.api.store.Store;
import dev.sbx.api.store.TemplateRecord;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Templates as E2B shows them, and template names ({@code [namespace/]alias[:tag]}) resolved for a
 * team. Builds come later: every template has one implicit, ready build whose id is derived from
 * the template id.
 */
public final class Templates {
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z0-9-_]+");
  private static final Pattern TAG = Pattern.compile("[a-z0-9-_.]+");

  private final Store store;

  public Templates(Store store) {
    this.store = store;
  }

  /** A resolved template and the alias it was named by (null when named by id). */
  public record Resolved(TemplateRecord template, @Nullable String alias) {}

  /** Resolves a {@code templateID} of a create request: 404/403/400 in E2B's words. */
  public Resolved resolve(Caller caller, String name) {
    String normalized = name.trim().toLowerCase(Locale.ROOT);
    String reference = normalized;
    String tag = null;
    int colon = reference.indexOf(':');
    if (colon >= 0) {
      tag = reference.substring(colon + 1);
      reference = reference.substring(0, colon);
    }
    String namespace = null;
    int slash = reference.indexOf('/');
    if (slash >= 0) {
      namespace = reference.substring(0, slash);
      reference = reference.substring(slash + 1);
    }
    if (!IDENTIFIER.matcher(reference).matches()
        || (namespace != null && !IDENTIFIER.matcher(namespace).matches())
        || (tag != null && !TAG.matcher(tag).matches())) {
      throw ApiException.badRequest("Invalid template name '" + name + "'");
    }
    if (namespace != null && !namespace.equals(caller.team().slug())) {
      throw ApiException.notFound("template '" + normalized + "' not found");
    }
    Optional<TemplateRecord> byAlias = store.templateByAlias(reference);
    TemplateRecord template;
    String alias = null;
    String bare = reference;
    if (byAlias.isPresent()) {
      template = byAlias.get();
      alias = bare;
    } else {
      template =
          store
              .template(bare)
              .orElseThrow(() -> ApiException.notFound("template '" + bare + "' not found"));
    }
    if (!template.usableBy(caller.team().id())) {
      throw ApiException.notFound("template '" + reference + "' not found");
    }
    if (tag != null && !tag.equals("default")) {
      throw ApiException.notFound(
          "tag '" + tag + "' does not exist for template '" + reference + "'");
    }
    return new Resolved(template, alias);
  }

  static String buildId(TemplateRecord template) {
    return UUID.nameUUIDFromBytes(
            (template.id() + "@" + template.createdAt()).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  private List<String> names(TemplateRecord template) {
    if (template.teamId() == null) {
      return template.aliases();
    }
    String slug = store.team(template.teamId()).map(t -> t.slug()).orElse("");
    return template.aliases().stream().map(a -> slug + "/" + a).toList();
  }

  private JsonObject common(TemplateRecord t) {
    return new JsonObject()
        .put("templateID", t.id())
        .put("public", t.isPublic())
        .put("aliases", new JsonArray(t.aliases()))
        .put("names", new JsonArray(names(t)))
        .put("createdAt", t.createdAt().toString())
        .put("updatedAt", t.updatedAt().toString())
        .put("lastSpawnedAt", t.lastSpawnedAt() == null ? null : t.lastSpawnedAt().toString())
        .put("spawnCount", t.spawnCount());
  }

  /** {@code GET /templates}: the templates the team may use. */
  public Reply list(Caller caller) {
    JsonArray list = new JsonArray();
    for (TemplateRecord t : store.templates(caller.team().id())) {
      list.add(
          common(t)
              .put("buildID", buildId(t))
              .put("cpuCount", t.cpuCount())
              .put("memoryMB", t.memoryMb())
              .put("diskSizeMB", t.diskSizeMb())
              .put("createdBy", null)
              .put("buildCount", 1)
              .put("envdVersion", t.envdVersion())
              .put("buildStatus", "ready"));
    }
    return Reply.json(200, list);
  }

  private TemplateRecord visible(Caller caller, String templateId) {
    return store
        .template(templateId)
        .or(() -> store.templateByAlias(templateId))
        .filter(t -> t.usableBy(caller.team().id()))
        .orElseThrow(() -> ApiException.notFound("template '" + templateId + "' not found"));
  }

  /** {@code GET /templates/{templateID}}. */
  public Reply get(Caller caller, String templateId) {
    TemplateRecord t = visible(caller, templateId);
    JsonObject build =
        new JsonObject()
            .put("buildID", buildId(t))
            .put("status", "ready")
            .put("createdAt", t.createdAt().toString())
            .put("updatedAt", t.updatedAt().toString())
            .put("finishedAt", t.createdAt().toString())
            .put("cpuCount", t.cpuCount())
            .put("memoryMB", t.memoryMb())
            .put("diskSizeMB", t.diskSizeMb())
            .put("envdVersion", t.envdVersion());
    return Reply.json(200, common(t).put("builds", new JsonArray().add(build)));
  }

  /** {@code GET /templates/aliases/{alias}}: 404 unknown, 403 another team's. */
  public Reply alias(Caller caller, String alias) {
    TemplateRecord t =
        store
            .templateByAlias(alias.trim().toLowerCase(Locale.ROOT))
            .orElseThrow(() -> ApiException.notFound("template '" + alias + "' not found"));
    if (!t.usableBy(caller.team().id())) {
      throw new ApiException(403, "You don't have access to template '" + alias + "'");
    }
    return Reply.json(200, new JsonObject().put("templateID", t.id()).put("public", t.isPublic()));
  }
}
