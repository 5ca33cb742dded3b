package org.l2l.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.OptimizerFile;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;
import org.l2l.rule.RuleGraph;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.types.TFloat32;

/**
 * The exported SavedModel, loaded back, against the project's own optimizer (the
 * CoordinatewiseLstm built with variables, as the unroll builds it) on the same gradients, over
 * consecutive steps that carry the state.
 */
class OptimizerExportTest {

  private static final int STEPS = 3;
  private static final long WEIGHT_SEED = 11;

  @TempDir Path tmp;

  /** The paper's LSTM size with the official preprocessing and a non-trivial output scale. */
  static final CoordinatewiseLstm.Config CONFIG =
      new CoordinatewiseLstm.Config(2, 20, 1.0, 0.1, Preprocessing.LOG_AND_SIGN, 5);

  private Path writeOptimizer(CoordinatewiseLstm lstm) throws IOException {
    Path file = tmp.resolve("opt.l2lw");
    OptimizerFile.write(file, lstm, lstm.initialValues(new SplittableRandom(WEIGHT_SEED)), null);
    return file;
  }

  /** Gradients spanning many magnitudes and both signs, exact zeros included. */
  static float[] gradient(int n, SplittableRandom rng) {
    float[] g = new float[n];
    for (int i = 0; i < n; i++) {
      double magnitude = Math.pow(10, -8 + 9 * rng.nextDouble());
      g[i] = rng.nextInt(50) == 0 ? 0f : (float) (rng.nextGaussian() * magnitude);
    }
    return g;
  }

  @Test
  void savedModelMatchesInProjectOptimizerFor1Coordinate() throws IOException {
    CoordinatewiseLstm lstm = new CoordinatewiseLstm(CONFIG);
    compare(writeOptimizer(lstm), 1);
  }

  @Test
  void savedModelMatchesInProjectOptimizerFor100000Coordinates() throws IOException {
    CoordinatewiseLstm lstm = new CoordinatewiseLstm(CONFIG);
    compare(writeOptimizer(lstm), 100_000);
  }

  /** A meta-trained optimizer (no preprocessing, output scale 1), the LogisticRegression one. */
  static Path trained() throws Exception {
    return Path.of(OptimizerExportTest.class.getResource("/org/l2l/examples/quadratic-200.l2lw")
        .toURI());
  }

  @Test
  void trainedOptimizerMatchesFor1Coordinate() throws Exception {
    compare(trained(), 1);
  }

  @Test
  void trainedOptimizerMatchesFor100000Coordinates() throws Exception {
    compare(trained(), 100_000);
  }

  private void compare(Path file, int n) throws IOException {
    OptimizerFile.Loaded loaded = OptimizerFile.read(file);
    CoordinatewiseLstm lstm = (CoordinatewiseLstm) loaded.single().rule();
    Path out = tmp.resolve("export");
    OptimizerExport.export(loaded, file, out);
    int width = lstm.packedStateWidth();
    int hidden = lstm.config().hiddenSize();
    int parts = 2 * lstm.config().layers();

    // The in-project optimizer: weights in variables (as the unroll has them), set to the file's.
    try (Graph g = new Graph();
        SavedModelBundle bundle = SavedModelBundle.load(out.toString())) {
      Ops tf = Ops.create(g);
      RuleGraph rule = lstm.build(tf, n, new SplittableRandom(0));
      List<Op> loads = new ArrayList<>();
      for (int i = 0; i < rule.metaParams().size(); i++) {
        Variable<TFloat32> v = rule.metaParams().get(i);
        loads.add(tf.assign(v, tf.constant(v.shape(), DataBuffers.of(loaded.values().get(i)))));
      }
      Placeholder<TFloat32> grad = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(n)));
      // The unroll's layout: each state [hidden, n padded to a multiple of 16].
      List<Shape> shapes = rule.stateShapes();
      long padded = shapes.get(0).get(1);
      List<Placeholder<TFloat32>> stateIn = new ArrayList<>();
      for (int i = 0; i < parts; i++) {
        stateIn.add(tf.placeholder(TFloat32.class, Placeholder.shape(shapes.get(i))));
      }
      RuleGraph.Step step = rule.step(tf.withSubScope("m"), grad, new ArrayList<>(stateIn));
      SessionFunction exported = bundle.function("serving_default");

      SplittableRandom rng = new SplittableRandom(n);
      List<float[]> state = new ArrayList<>();
      for (int i = 0; i < parts; i++) {
        state.add(new float[(int) shapes.get(i).size()]);
      }
      float[] packed = new float[n * width];
      double maxUpdate = 0;
      double maxState = 0;
      double maxAbsUpdate = 0;
      boolean identical = true;
      try (Session session = new Session(g)) {
        loads.forEach(session::run);
        for (int t = 0; t < STEPS; t++) {
          float[] gradient = gradient(n, rng);
          // In project.
          float[] update;
          List<float[]> nextState = new ArrayList<>();
          List<Tensor> owned = new ArrayList<>();
          try {
            Session.Runner r = session.runner();
            TFloat32 gt = Tensors.floats(gradient, n);
            owned.add(gt);
            r.feed(grad, gt);
            for (int i = 0; i < parts; i++) {
              TFloat32 s = Tensors.floats(state.get(i), shapes.get(i).asArray());
              owned.add(s);
              r.feed(stateIn.get(i), s);
            }
            r.fetch(step.update());
            step.state().forEach(r::fetch);
            try (Result res = r.run()) {
              update = Tensors.toArray(res.get(0));
              for (int i = 0; i < parts; i++) {
                nextState.add(Tensors.toArray(res.get(1 + i)));
              }
            }
          } finally {
            owned.forEach(Tensor::close);
          }
          // Exported.
          float[] exportedUpdate;
          float[] exportedState;
          try (TFloat32 gt = Tensors.floats(gradient, n);
              TFloat32 st = Tensors.floats(packed, n, width);
              Result res = exported.call(Map.of(OptimizerExport.GRADIENT, gt,
                  OptimizerExport.STATE, st))) {
            exportedUpdate = Tensors.toArray(res.get(OptimizerExport.UPDATE).get());
            exportedState = Tensors.toArray(res.get(OptimizerExport.NEW_STATE).get());
          }
          assertEquals(n, exportedUpdate.length);
          assertEquals((long) n * width, exportedState.length);
          for (int i = 0; i < n; i++) {
            double d = Math.abs(update[i] - exportedUpdate[i]);
            maxUpdate = Math.max(maxUpdate, d);
            maxAbsUpdate = Math.max(maxAbsUpdate, Math.abs(update[i]));
            identical &= Float.floatToIntBits(update[i]) == Float.floatToIntBits(exportedUpdate[i]);
            for (int p = 0; p < parts; p++) {
              for (int j = 0; j < hidden; j++) {
                float mine = nextState.get(p)[(int) (j * padded + i)];
                float theirs = exportedState[i * width + p * hidden + j];
                maxState = Math.max(maxState, Math.abs(mine - theirs));
                identical &= Float.floatToIntBits(mine) == Float.floatToIntBits(theirs);
              }
            }
          }
          state = nextState;
          packed = exportedState;
        }
      }
      System.out.printf(Locale.ROOT, "export vs in-project, %s, %d coordinates, %d steps: max "
          + "|update difference| %.3g (largest |update| %.3g), max |state difference| %.3g, "
          + "bit-identical: %s%n", file.getFileName(), n, STEPS, maxUpdate, maxAbsUpdate,
          maxState, identical);
      assertTrue(maxAbsUpdate > 0, "the optimizer should move something");
      assertTrue(maxUpdate <= 1e-6, "update differs by " + maxUpdate);
      assertTrue(maxState <= 1e-6, "state differs by " + maxState);
    }
  }

  @Test
  void exportWritesDocumentedSignatureWeightsAndReadme() throws IOException {
    CoordinatewiseLstm lstm = new CoordinatewiseLstm(
        new CoordinatewiseLstm.Config(1, 4, 1.0, 1.0, Preprocessing.NONE, 10));
    Path file = writeOptimizer(lstm);
    Path out = tmp.resolve("small");
    OptimizerExport.export(OptimizerFile.read(file), file, out);
    assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(
        out.resolve(OptimizerFile.FILE_NAME)));
    String readme = Files.readString(out.resolve(OptimizerExport.README));
    assertTrue(readme.contains("| input | `state` | float32 | [n, 8] |"), readme);
    try (SavedModelBundle bundle = SavedModelBundle.load(out.toString())) {
      SignatureDef sig = bundle.metaGraphDef().getSignatureDefOrThrow("serving_default");
      assertEquals(OptimizerExport.METHOD_NAME, sig.getMethodName());
      assertEquals(List.of(-1L), dims(sig.getInputsOrThrow("gradient")));
      assertEquals(List.of(-1L, 8L), dims(sig.getInputsOrThrow("state")));
      assertEquals(List.of(-1L), dims(sig.getOutputsOrThrow("update")));
      assertEquals(List.of(-1L, 8L), dims(sig.getOutputsOrThrow("new_state")));
      assertEquals(org.tensorflow.proto.DataType.DT_FLOAT,
          sig.getInputsOrThrow("gradient").getDtype());
      // The graph holds no variables: nothing to restore in any runtime.
      bundle.graph().operations().forEachRemaining(op ->
          assertTrue(!op.type().startsWith("Variable"), op.name()));
    }
  }

  private static List<Long> dims(TensorInfo info) {
    return info.getTensorShape().getDimList().stream().map(d -> d.getSize()).toList();
  }
}
