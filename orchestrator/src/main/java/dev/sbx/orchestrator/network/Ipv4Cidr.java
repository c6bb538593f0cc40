package dev.sbx.orchestrator.network;

import static java.util.Objects.requireNonNull;

/**
 * An IPv4 network in CIDR notation ({@code 10.231.0.0/16}); a single address is a {@code /32}.
 *
 * @param network the network address as an unsigned 32-bit value, host bits zero
 * @param prefixLength 0 to 32
 */
public record Ipv4Cidr(int network, int prefixLength) {

  public Ipv4Cidr {
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalArgumentException("prefix length out of range: " + prefixLength);
    }
    if ((network & ~mask(prefixLength)) != 0) {
      throw new IllegalArgumentException(
          "host bits set in " + formatAddress(network) + "/" + prefixLength);
    }
  }

  /**
   * Parses {@code a.b.c.d/n} or a bare address {@code a.b.c.d} (a {@code /32}).
   *
   * @throws IllegalArgumentException if the text is not an IPv4 CIDR or has host bits set
   */
  public static Ipv4Cidr parse(String text) {
    requireNonNull(text, "text");
    int slash = text.indexOf('/');
    int prefix = 32;
    String address = text;
    if (slash >= 0) {
      address = text.substring(0, slash);
      try {
        prefix = Integer.parseInt(text.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not an IPv4 CIDR: " + text, e);
      }
    }
    return new Ipv4Cidr(parseAddress(address), prefix);
  }

  /** The network of {@code prefixLength} bits that contains {@code address}. */
  public static Ipv4Cidr covering(int address, int prefixLength) {
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalArgumentException("prefix length out of range: " + prefixLength);
    }
    return new Ipv4Cidr(address & mask(prefixLength), prefixLength);
  }

  /** Parses a dotted-quad IPv4 address into its unsigned 32-bit value. */
  public static int parseAddress(String text) {
    requireNonNull(text, "text");
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: " + text);
    }
    int value = 0;
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
        throw new IllegalArgumentException("not an IPv4 address: " + text);
      }
      int octet = Integer.parseInt(part);
      if (octet > 255) {
        throw new IllegalArgumentException("not an IPv4 address: " + text);
      }
      value = (value << 8) | octet;
    }
    return value;
  }

  /** Formats an unsigned 32-bit value as a dotted quad. */
  public static String formatAddress(int address) {
    return (address >>> 24)
        + "."
        + ((address >>> 16) & 0xff)
        + "."
        + ((address >>> 8) & 0xff)
        + "."
        + (address & 0xff);
  }

  private static int mask(int prefixLength) {
    return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
  }

  /** How many addresses the network spans (2^(32-prefix)), as a long so that /0 fits. */
  public long size() {
    return 1L << (32 - prefixLength);
  }

  /** The address at {@code offset} from the network address, e.g. offset 1 of 10.0.0.0/8. */
  public int addressAt(long offset) {
    if (offset < 0 || offset >= size()) {
      throw new IllegalArgumentException("offset " + offset + " outside " + this);
    }
    return network + (int) offset;
  }

  public boolean contains(int address) {
    return (address & mask(prefixLength)) == network;
  }

  /** Whether the two networks share at least one address. */
  public boolean overlaps(Ipv4Cidr other) {
    requireNonNull(other, "other");
    int shorter = Math.min(prefixLength, other.prefixLength);
    return (network & mask(shorter)) == (other.network & mask(shorter));
  }

  @Override
  public String toString() {
    return formatAddress(network) + "/" + prefixLength;
  }
}
