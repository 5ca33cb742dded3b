package org.l2l.io.tensorboard;

import com.google.protobuf.ByteString;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.Summary;

/**
 * Writes a TensorBoard event file {@code DIR/events.out.tfevents.<epochSeconds>.<hostname>}.
 *
 * <p>Records are buffered because a training loop logs many small scalars; {@link #flush()} pushes
 * them to the operating system, after which readers (TensorBoard, or {@link EventReader} in this
 * process) see every record written so far, and never half a record. Methods are synchronized so
 * several threads may log to one writer.
 */
public final class EventWriter implements AutoCloseable {

  private static final int BUFFER_BYTES = 1 << 16;

  private final Path file;
  private final OutputStream out;
  private boolean closed;

  /**
   * Creates {@code dir} if needed and starts a new event file there with the {@code brain.Event:2}
   * version record TensorBoard expects first.
   *
   * @throws EventFileException if the folder or file cannot be created
   */
  public EventWriter(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (FileAlreadyExistsException e) {
      throw new EventFileException(dir, "exists but is not a folder", e);
    } catch (IOException e) {
      throw new EventFileException(dir, "cannot create log folder: " + e.getMessage(), e);
    }
    String base = "events.out.tfevents." + Instant.now().getEpochSecond() + "." + hostname();
    Path candidate = dir.resolve(base);
    OutputStream stream = null;
    // Two writers started in the same second must not overwrite each other: add a counter.
    for (int n = 1; stream == null; n++) {
      try {
        stream =
            Files.newOutputStream(
                candidate, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      } catch (FileAlreadyExistsException e) {
        candidate = dir.resolve(base + "." + n);
      } catch (IOException e) {
        throw new EventFileException(candidate, "cannot create event file: " + e.getMessage(), e);
      }
    }
    this.file = candidate;
    this.out = new BufferedOutputStream(stream, BUFFER_BYTES);
    try {
      write(Event.newBuilder().setWallTime(now()).setFileVersion("brain.Event:2").build());
      flush(); // an empty run then still shows up as a valid file
    } catch (EventFileException e) {
      close();
      throw e;
    }
  }

  /** The event file being written. */
  public Path file() {
    return file;
  }

  /** Records a serialized {@code GraphDef} (for TensorBoard's Graphs tab) at step 0. */
  public synchronized void writeGraph(byte[] graphDefBytes) {
    write(
        Event.newBuilder()
            .setWallTime(now())
            .setGraphDef(ByteString.copyFrom(graphDefBytes))
            .build());
  }

  /** Records {@code graph} (for TensorBoard's Graphs tab) at step 0. */
  public void writeGraph(GraphDef graph) {
    writeGraph(graph.toByteArray());
  }

  /**
   * Records one point of the scalar series {@code tag}. TensorBoard stores scalars as 32-bit
   * floats, so {@code value} is rounded to float.
   */
  public synchronized void scalar(String tag, long step, double value) {
    Summary.Value v = Summary.Value.newBuilder().setTag(tag).setSimpleValue((float) value).build();
    write(summaryEvent(step, v));
  }

  /** Records the distribution of {@code values} at {@code step}; see {@link Histograms#of}. */
  public synchronized void histogram(String tag, long step, float[] values) {
    Summary.Value v =
        Summary.Value.newBuilder().setTag(tag).setHisto(Histograms.of(values)).build();
    write(summaryEvent(step, v));
  }

  /** Hands all buffered records to the operating system, so other readers can see them. */
  public synchronized void flush() {
    checkOpen();
    try {
      out.flush();
    } catch (IOException e) {
      throw new EventFileException(file, "cannot write: " + e.getMessage(), e);
    }
  }

  /** Flushes and closes the file; later calls do nothing. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      out.close();
    } catch (IOException e) {
      throw new EventFileException(file, "cannot close: " + e.getMessage(), e);
    }
  }

  private static Event summaryEvent(long step, Summary.Value value) {
    return Event.newBuilder()
        .setWallTime(now())
        .setStep(step)
        .setSummary(Summary.newBuilder().addValue(value))
        .build();
  }

  private synchronized void write(Event event) {
    checkOpen();
    try {
      RecordFiles.write(out, event.toByteArray());
    } catch (IOException e) {
      throw new EventFileException(file, "cannot write: " + e.getMessage(), e);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("event writer for " + file + " is closed");
    }
  }

  /** Seconds since the epoch with sub-second precision, as TensorBoard expects. */
  private static double now() {
    Instant t = Instant.now();
    return t.getEpochSecond() + t.getNano() / 1e9;
  }

  /** The host name for the file name; path-unsafe characters replaced, never failing. */
  private static String hostname() {
    String name;
    try {
      name = InetAddress.getLocalHost().getHostName();
    } catch (IOException | RuntimeException e) {
      name = System.getenv().getOrDefault("HOSTNAME", "localhost");
    }
    name = name.replaceAll("[^A-Za-z0-9._-]", "_");
    return name.isEmpty() ? "localhost" : name;
  }
}
