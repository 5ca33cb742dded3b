package org.l2l;

/**
 * Something a user got wrong: a flag value, a missing or malformed file, data that cannot be
 * fetched. The one type the command line turns into a single line on standard error and exit
 * code 2, without a stack trace. Library code throws it (or a subclass naming the kind of input,
 * {@link org.l2l.io.FormatException}, {@link org.l2l.data.DataException}); only the command line
 * prints it.
 *
 * <p>The message is one line that names what was wrong and what is allowed, e.g.
 * {@code "--dims 0: must be a positive integer"}.
 */
public class UserError extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** An error whose message is already one line naming the input and the problem. */
  public UserError(String message) {
    super(oneLine(message));
  }

  /** As {@link #UserError(String)}, keeping {@code cause} for debugging. */
  public UserError(String message, Throwable cause) {
    super(oneLine(message), cause);
  }

  /** The usual form for a flag: "--flag value: what is wrong / allowed". */
  public static UserError flag(String flag, Object value, String allowed) {
    return new UserError(flag + " " + value + ": " + allowed);
  }

  /** Messages from parsers can span lines; the contract here is one line. */
  static String oneLine(String s) {
    return s == null ? "unknown problem" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }
}
