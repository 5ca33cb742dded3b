package org.l2l.io.tensorboard;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.Summary;
import org.tensorflow.proto.TensorProto;

/**
 * Reads TensorBoard event files: one file, or every event file of a folder in name order (names
 * start with the creation time, so this is chronological). Checksums are always verified.
 *
 * <p>A folder is not searched recursively: each TensorBoard run lives in its own folder.
 */
public final class EventReader {

  private EventReader() {}

  /**
   * The event files {@code dirOrFile} stands for: itself if it is a file, else the files of the
   * folder whose name contains {@code tfevents} (as TensorBoard selects them), sorted by name.
   *
   * @throws EventFileException if the path does not exist or the folder holds no event file
   */
  public static List<Path> eventFiles(Path dirOrFile) {
    if (Files.isRegularFile(dirOrFile)) {
      return List.of(dirOrFile);
    }
    if (!Files.isDirectory(dirOrFile)) {
      throw new EventFileException(dirOrFile, "no such file or folder");
    }
    List<Path> files;
    List<String> subfolders;
    try (Stream<Path> entries = Files.list(dirOrFile)) {
      List<Path> all =
          entries.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
      files =
          all.stream()
              .filter(
                  p -> Files.isRegularFile(p) && p.getFileName().toString().contains("tfevents"))
              .toList();
      subfolders =
          all.stream().filter(Files::isDirectory).map(p -> p.getFileName().toString()).toList();
    } catch (IOException e) {
      throw new EventFileException(dirOrFile, "cannot list folder: " + e.getMessage(), e);
    }
    if (files.isEmpty()) {
      // A common mistake is to point at the parent log folder; say where the runs are.
      String hint =
          subfolders.isEmpty()
              ? ""
              : " (it has subfolders " + String.join(", ", subfolders) + "; point at one of them)";
      throw new EventFileException(
          dirOrFile, "no TensorBoard event files (*tfevents*) in this folder" + hint);
    }
    return files;
  }

  /**
   * Passes every event of {@code dirOrFile} to {@code consumer}, in order, without keeping them.
   */
  public static void forEach(Path dirOrFile, Consumer<Event> consumer) {
    for (Path file : eventFiles(dirOrFile)) {
      RecordFiles.forEach(file, (index, data) -> consumer.accept(parse(file, index, data)));
    }
  }

  /** Every event of {@code dirOrFile}, in order. */
  public static List<Event> read(Path dirOrFile) {
    List<Event> events = new ArrayList<>();
    forEach(dirOrFile, events::add);
    return events;
  }

  /**
   * One {@link TagSummary} per (tag, kind): the graph first if present, then tags alphabetically.
   */
  public static List<TagSummary> summarize(Path dir) {
    Map<String, TagSummary> byKey = new TreeMap<>();
    forEach(
        dir,
        event -> {
          if (event.hasGraphDef()) {
            // "\0" sorts before any tag, putting the graph first
            add(
                byKey,
                "\0",
                TagSummary.GRAPH_TAG,
                TagSummary.Kind.GRAPH,
                event.getStep(),
                Double.NaN);
          }
          for (Summary.Value v : event.getSummary().getValueList()) {
            TagSummary.Kind kind = kindOf(v);
            double value =
                kind == TagSummary.Kind.SCALAR ? scalarValue(v).orElseThrow() : Double.NaN;
            add(byKey, v.getTag() + "\0" + kind, v.getTag(), kind, event.getStep(), value);
          }
        });
    return List.copyOf(byKey.values());
  }

  /** The (step, value) pairs of scalar {@code tag}, in file order; empty if the tag is absent. */
  public static List<double[]> scalars(Path dir, String tag) {
    List<double[]> points = new ArrayList<>();
    forEach(
        dir,
        event -> {
          for (Summary.Value v : event.getSummary().getValueList()) {
            if (v.getTag().equals(tag)) {
              scalarValue(v).ifPresent(x -> points.add(new double[] {event.getStep(), x}));
            }
          }
        });
    return points;
  }

  /** Whether {@code dir} holds at least one graph event. */
  public static boolean hasGraph(Path dir) {
    return graphBytes(dir).isPresent();
  }

  /**
   * The last graph written to {@code dir}, if any.
   *
   * @throws EventFileException if the graph bytes are not a valid GraphDef
   */
  public static Optional<GraphDef> graph(Path dir) {
    return graphBytes(dir)
        .map(
            bytes -> {
              try {
                return GraphDef.parseFrom(bytes);
              } catch (InvalidProtocolBufferException e) {
                throw new EventFileException(
                    dir, "the stored graph is not a valid GraphDef: " + e.getMessage(), e);
              }
            });
  }

  /**
   * The number a summary value carries, if it is a scalar: either the classic {@code simple_value}
   * or a one-element float/double tensor (as written by TensorFlow 2's {@code tf.summary.scalar}).
   */
  public static OptionalDouble scalarValue(Summary.Value v) {
    if (v.hasSimpleValue()) {
      return OptionalDouble.of(v.getSimpleValue());
    }
    if (!v.hasTensor()) {
      return OptionalDouble.empty();
    }
    TensorProto t = v.getTensor();
    if (t.getFloatValCount() == 1) {
      return OptionalDouble.of(t.getFloatVal(0));
    }
    if (t.getDoubleValCount() == 1) {
      return OptionalDouble.of(t.getDoubleVal(0));
    }
    ByteString content = t.getTensorContent();
    ByteBuffer buf = content.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    if (t.getDtype() == DataType.DT_FLOAT && content.size() == 4) {
      return OptionalDouble.of(buf.getFloat());
    }
    if (t.getDtype() == DataType.DT_DOUBLE && content.size() == 8) {
      return OptionalDouble.of(buf.getDouble());
    }
    return OptionalDouble.empty();
  }

  private static TagSummary.Kind kindOf(Summary.Value v) {
    if (scalarValue(v).isPresent()) {
      return TagSummary.Kind.SCALAR;
    }
    return v.hasHisto() ? TagSummary.Kind.HISTOGRAM : TagSummary.Kind.OTHER;
  }

  private static void add(
      Map<String, TagSummary> byKey,
      String key,
      String tag,
      TagSummary.Kind kind,
      long step,
      double value) {
    TagSummary old = byKey.get(key);
    int count = old == null ? 1 : old.count() + 1;
    byKey.put(key, new TagSummary(tag, kind, count, step, value));
  }

  private static Optional<ByteString> graphBytes(Path dir) {
    ByteString[] last = {null};
    forEach(
        dir,
        event -> {
          if (event.hasGraphDef()) {
            last[0] = event.getGraphDef();
          }
        });
    return Optional.ofNullable(last[0]);
  }

  private static Event parse(Path file, int index, byte[] data) {
    try {
      return Event.parseFrom(data);
    } catch (InvalidProtocolBufferException e) {
      throw new EventFileException(
          file, "record " + index + " is not a TensorBoard event: " + e.getMessage(), e);
    }
  }
}
