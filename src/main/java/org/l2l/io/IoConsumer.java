package org.l2l.io;

import java.io.IOException;

/**
 * A consumer that may throw {@link IOException}.
 *
 * <p>{@link java.util.function.Consumer} cannot throw checked exceptions, and the callbacks
 * handed to {@link AtomicFiles} naturally do I/O, so they get their own functional interface
 * instead of wrapping every failure in an unchecked exception.
 *
 * @param <T> the type of the value consumed
 */
@FunctionalInterface
public interface IoConsumer<T> {

  /**
   * Consumes {@code value}.
   *
   * @param value the value to consume
   * @throws IOException if the underlying I/O fails
   */
  void accept(T value) throws IOException;
}
