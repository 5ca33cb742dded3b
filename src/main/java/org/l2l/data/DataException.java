package org.l2l.data;

/**
 * A data file or data directory is missing, malformed or could not be fetched.
 *
 * <p>Unchecked because callers can rarely recover; the command line catches it and prints the
 * message alone. The message is therefore always one line that names the file (or directory) and
 * says what is wrong, so that no stack trace is needed to understand it.
 */
public final class DataException extends org.l2l.UserError {

    private static final long serialVersionUID = 1L;

    /**
     * @param message one line naming the file and what is wrong with it
     */
    public DataException(String message) {
        super(message);
    }

    /**
     * @param message one line naming the file and what is wrong with it
     * @param cause   the underlying I/O or format error, kept for debugging
     */
    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
