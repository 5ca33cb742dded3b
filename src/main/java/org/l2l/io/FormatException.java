package org.l2l.io;

/**
 * A file that this package reads is missing, unreadable or malformed.
 *
 * <p>Unchecked on purpose: a bad weights or metrics file is not something a caller can
 * sensibly recover from mid-computation, and the command line reports it as a one-line error.
 * The message is always a single line of the form {@code "<file>: <problem>"} so it can be
 * printed as is.
 */
public final class FormatException extends org.l2l.UserError {

  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception whose message is {@code message} (expected to already name the file).
   *
   * @param message one line, naming the file and the problem
   */
  public FormatException(String message) {
    super(message);
  }

  /**
   * Creates an exception whose message is {@code message}, keeping {@code cause} for debugging.
   *
   * @param message one line, naming the file and the problem
   * @param cause the underlying failure
   */
  public FormatException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Creates an exception with the message {@code "<file>: <problem>"}.
   *
   * @param file the offending file, printed as given (relative paths stay relative)
   * @param problem a short description of what is wrong
   * @return the exception, for {@code throw FormatException.of(...)}
   */
  public static FormatException of(Object file, String problem) {
    return new FormatException(file + ": " + oneLine(problem));
  }

  /**
   * Like {@link #of(Object, String)}, keeping {@code cause}.
   *
   * @param file the offending file
   * @param problem a short description of what is wrong
   * @param cause the underlying failure
   * @return the exception
   */
  public static FormatException of(Object file, String problem, Throwable cause) {
    return new FormatException(file + ": " + oneLine(problem), cause);
  }

  /** Messages from parsers (Gson) can span lines; the contract here is one line. */
  private static String oneLine(String s) {
    return s == null ? "unknown problem" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }
}
