package org.l2l.io.tensorboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.EagerSession;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.summary.SummaryWriter;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.HistogramProto;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.Summary;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/** Checks our files against TensorFlow's own writer, reader and histogram code. */
class TensorFlowInteropTest {

  @TempDir Path dir;

  @Test
  void realGraphRoundTripsThroughEventFileAndPicture() throws Exception {
    GraphDef written;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> a = tf.withSubScope("a").constant(1f);
      Ops inB = tf.withSubScope("b"); // asking for scope "b" twice would give "b" and "b_1"
      Operand<TFloat32> b = inB.math.add(a, inB.constant(2f));
      tf.withSubScope("c").math.mul(b, a);
      written = g.toGraphDef();
      try (EventWriter w = new EventWriter(dir)) {
        w.writeGraph(written.toByteArray());
      }
    }
    GraphDef read = EventReader.graph(dir).orElseThrow();
    assertEquals(written, read);
    Set<String> names =
        read.getNodeList().stream().map(NodeDef::getName).collect(Collectors.toSet());
    assertTrue(
        names.contains("a/Const") && names.contains("b/Add") && names.contains("c/Mul"),
        names.toString());

    ScopeGraph sg = ScopeGraph.of(read, true);
    assertEquals(List.of("a", "b", "c"), sg.boxes().stream().map(ScopeGraph.Box::label).toList());
    assertEquals(List.of(1, 2, 1), sg.boxes().stream().map(ScopeGraph.Box::nodeCount).toList());
    assertEquals(
        List.of(
            new ScopeGraph.Edge(0, 1, 1, 0, false),
            new ScopeGraph.Edge(0, 2, 1, 0, false),
            new ScopeGraph.Edge(1, 2, 1, 0, false)),
        sg.edges());
    GraphPicture.write(read, dir.resolve("graph.svg"));
    assertTrue(
        Files.readString(dir.resolve("graph.svg")).contains("data-from=\"a\" data-to=\"b\""));
  }

  @Test
  void histogramsMatchTensorFlowsHistogramSummaryOp() throws Exception {
    float[] values = new float[1000];
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(12) - 6));
    }
    values[0] = 0f;
    values[1] = 1e-13f;
    values[2] = -3.4e38f;
    for (float[] v : List.of(values, new float[] {0.5f}, new float[0])) {
      HistogramProto expected;
      try (Graph g = new Graph();
          Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        Operand<TString> summary =
            tf.summary.histogramSummary(tf.constant("h"), tf.constant(v)).summary();
        try (Result r = s.runner().fetch(summary).run()) {
          byte[] bytes = ((TString) r.get(0)).asBytes().getObject();
          expected = Summary.parseFrom(bytes).getValue(0).getHisto();
        }
      }
      assertEquals(expected, Histograms.of(v), "histogram of " + v.length + " values");
    }
  }

  @Test
  void weReadEventFilesWrittenByTensorFlow() {
    try (Graph g = new Graph();
        Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      SummaryWriter w = tf.summary.summaryWriter();
      s.run(
          tf.summary.createSummaryFileWriter(
              w,
              tf.constant(dir.toString()),
              tf.constant(10),
              tf.constant(100_000),
              tf.constant(".tf")));
      for (long step = 1; step <= 3; step++) {
        s.run(
            tf.summary.writeScalarSummary(
                w, tf.constant(step), tf.constant("loss"), tf.constant(step * 0.5f)));
      }
      s.run(
          tf.summary.writeHistogramSummary(
              w, tf.constant(3L), tf.constant("w"), tf.constant(new float[] {1f, 2f})));
      s.run(tf.summary.flushSummaryWriter(w));
      s.run(tf.summary.closeSummaryWriter(w));
    }
    List<double[]> loss = EventReader.scalars(dir, "loss");
    assertEquals(3, loss.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(i + 1, loss.get(i)[0]);
      assertEquals((i + 1) * 0.5, loss.get(i)[1]);
    }
    List<TagSummary> summary = EventReader.summarize(dir);
    assertEquals(new TagSummary("loss", TagSummary.Kind.SCALAR, 3, 3, 1.5), summary.get(0));
    assertEquals(TagSummary.Kind.HISTOGRAM, summary.get(1).kind());
    assertEquals("brain.Event:2", EventReader.read(dir).get(0).getFileVersion());
  }

  @Test
  void tensorFlowReadsOurRecordsAndAcceptsTheirChecksums() throws Exception {
    Path file;
    try (EventWriter w = new EventWriter(dir)) {
      file = w.file();
      w.scalar("loss", 5, 0.25);
      w.histogram("w", 5, new float[] {1f, -1f});
    }
    List<byte[]> ours = RecordFiles.readAll(file);
    List<byte[]> theirs = readWithTensorFlow(file);
    assertEquals(3, theirs.size());
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(ours.get(i), theirs.get(i));
    }
    // TensorFlow does check checksums, so its acceptance above means something.
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 6] ^= 1;
    Path bad = Files.write(dir.resolve("bad.tfrecord"), bytes);
    TensorFlowException e = assertThrows(TensorFlowException.class, () -> readWithTensorFlow(bad));
    assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains("corrupt"), e.getMessage());
  }

  /** All records of {@code file} as read by TensorFlow's own TFRecord reader. */
  private static List<byte[]> readWithTensorFlow(Path file) {
    List<byte[]> records = new ArrayList<>();
    try (EagerSession session = EagerSession.create()) {
      // Version 1 of the op, by name: with TFRecordDatasetV2 (and the framework's Dataset) making
      // an iterator fails in TensorFlow Java 1.1.0 ("3 inputs specified of 4").
      Ops tf = Ops.create(session);
      Operand<?> dataset =
          session
              .opBuilder("TFRecordDataset", "records", tf.scope())
              .addInput(tf.constant(file.toString()).asOutput())
              .addInput(tf.constant("").asOutput())
              .addInput(tf.constant(1L << 16).asOutput())
              .build()
              .output(0);
      List<Class<? extends TType>> types = List.of(TString.class);
      List<Shape> shapes = List.of(Shape.scalar());
      Operand<?> iterator = tf.data.anonymousIterator(types, shapes).handle();
      tf.data.makeIterator(dataset, iterator);
      while (true) {
        Operand<?> next;
        try {
          next = tf.data.iteratorGetNext(iterator, types, shapes).components().get(0);
        } catch (TensorFlowException e) {
          if (e.getMessage().contains("End of sequence")) {
            return records;
          }
          throw e;
        }
        records.add(((TString) next.asTensor()).asBytes().getObject());
      }
    }
  }
}
