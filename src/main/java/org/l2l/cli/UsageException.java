package org.l2l.cli;

/**
 * A user's mistake (a flag value, a missing file): printed as one line, exit code 2, no stack
 * trace.
 */
public final class UsageException extends RuntimeException {

  /** A message that names the flag, the value and what is allowed. */
  public UsageException(String message) {
    super(message);
  }

  /** The usual form: "--flag value: what is wrong". */
  public static UsageException flag(String flag, Object value, String allowed) {
    return new UsageException(flag + " " + value + ": " + allowed);
  }
}
