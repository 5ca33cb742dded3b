package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.Csv;
import org.l2l.io.tensorboard.EventReader;
import org.l2l.io.tensorboard.TagSummary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** TensorBoard output of train, evaluate and graph, read back with the project's reader. */
class TensorBoardTest {

  @TempDir Path tmp;

  @Test
  void trainWritesGraphScalarsEqualToMetricsAndHistograms() throws IOException {
    int code = Main.execute("train", "--epochs", "6", "--num-steps", "20", "--unroll-length",
        "10", "--eval-every", "3", "--eval-instances", "2", "--histogram-every", "3",
        "--hidden-size", "5", "--preprocess", "log-and-sign", "--run", "tb",
        "--checkpoint-dir", tmp.resolve("ck").toString(), "--tensorboard-dir",
        tmp.resolve("tb").toString());
    assertEquals(0, code);
    Path run = tmp.resolve("tb/tb");
    GraphDef graph = EventReader.graph(run).orElseThrow();
    Set<String> names = graph.getNodeList().stream().map(NodeDef::getName)
        .collect(Collectors.toSet());
    // The default kernel: the step op (one op per step for the LSTM's layers) where the C
    // library loads, else stock ops with a scope per layer.
    String lstm = org.l2l.tf.FusedLstm.available() ? "step_0/m/lstm_step/" : "step_0/m/layer0/";
    for (String scope : List.of("step_0/f/", "step_0/gradient/", "step_0/m/preprocess/",
        lstm, "step_0/m/output/", "step_0/update/", "step_9/m/", "meta_loss/",
        "meta_optimizer/", "lstm/layer0/")) {
      assertTrue(names.stream().anyMatch(n -> n.startsWith(scope)), scope);
    }
    // Meta-parameters exist once, not per step.
    assertEquals(1, names.stream().filter(n -> n.equals("lstm/layer0/kernel")).count());
    assertTrue(names.stream().noneMatch(n -> n.startsWith("lstm_1/")));

    List<double[]> metaLoss = EventReader.scalars(run, "meta_loss");
    assertEquals(6, metaLoss.size());
    Csv.Table metrics = Csv.read(tmp.resolve("ck/tb/metrics.csv"));
    for (int i = 0; i < 6; i++) {
      assertEquals(i + 1, (long) metaLoss.get(i)[0]);
      assertEquals(Float.parseFloat(metrics.rows().get(i).get(1)), (float) metaLoss.get(i)[1]);
    }
    List<TagSummary> tags = EventReader.summarize(run);
    long histograms = tags.stream().filter(t -> t.kind() == TagSummary.Kind.HISTOGRAM).count();
    assertTrue(histograms >= 4, tags.toString());
    TagSummary updates = tags.stream().filter(t -> t.tag().equals("updates_g_t")).findFirst()
        .orElseThrow();
    assertEquals(2, updates.count());
    assertTrue(tags.stream().anyMatch(t -> t.tag().equals("preprocessed_inputs")));
    assertEquals(2, EventReader.scalars(run, "evaluation/l2l").size());

    String out = captureOut(() -> Main.execute("inspect", run.toString()));
    assertTrue(out.contains("meta_loss"), out);
    assertTrue(out.contains("CRCs checked"), out);
  }

  @Test
  void evaluateWritesOneRunPerOptimizer() {
    assertEquals(0, Main.execute("evaluate", "--baselines", "sgd,adam", "--learning-rates",
        "sgd=0.01,adam=0.1", "--num-steps", "10", "--instances", "2", "--out",
        tmp.resolve("res").toString(), "--tensorboard-dir", tmp.resolve("tb").toString()));
    for (String rule : List.of("sgd", "adam")) {
      assertEquals(11, EventReader.scalars(tmp.resolve("tb/eval-res/" + rule), "loss/mean")
          .size());
    }
  }

  @Test
  void graphPresetBlogWritesFourFiles() throws IOException {
    assertEquals(0, Main.execute("graph", "--preset", "blog", "--graphs-dir",
        tmp.resolve("g").toString()));
    Path dir = tmp.resolve("g/blog");
    GraphDef graph = GraphDef.parseFrom(Files.readAllBytes(dir.resolve("graph.pb")));
    assertTrue(graph.getNodeCount() > 100);
    // 5 steps of a 1-layer LSTM with 19 units on 7 coefficients.
    Set<String> names = graph.getNodeList().stream().map(NodeDef::getName)
        .collect(Collectors.toSet());
    assertTrue(names.contains("step_4/update/theta"));
    assertTrue(names.stream().noneMatch(n -> n.startsWith("step_5/m/")));
    assertTrue(names.stream().noneMatch(n -> n.startsWith("lstm/layer1/")));
    assertTrue(Files.readString(dir.resolve("graph.pbtxt")).contains("lstm/layer0/kernel"));
    assertTrue(EventReader.hasGraph(dir));
    String svg = Files.readString(dir.resolve("graph.svg"));
    for (String box : List.of("optimizee_f", "optimizer_m", "meta_optimizer", "meta_loss")) {
      assertTrue(svg.contains(box), box);
    }
  }

  static String captureOut(Runnable r) {
    PrintStream old = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setOut(old);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
