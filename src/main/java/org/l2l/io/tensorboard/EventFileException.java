package org.l2l.io.tensorboard;

import java.nio.file.Path;

/**
 * An event file (or folder of event files) cannot be written or read: missing, corrupted, truncated
 * or not a TensorBoard file.
 *
 * <p>Unchecked and carrying a complete sentence, so a command line can print {@link #getMessage()}
 * to the user instead of a stack trace; the message always starts with the offending path.
 */
public final class EventFileException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /**
   * @param file the file or folder concerned
   * @param problem what is wrong, phrased for a user (e.g. "record 3: data checksum mismatch")
   */
  public EventFileException(Path file, String problem) {
    this(file, problem, null);
  }

  /**
   * @param file the file or folder concerned
   * @param problem what is wrong, phrased for a user
   * @param cause the low-level failure, kept for debugging
   */
  public EventFileException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The file or folder the problem is about. */
  public Path file() {
    return file;
  }
}
