package org.l2l.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.l2l.UserError;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/**
 * The meta-optimizers sgd, rmsprop and nag ({@link MetaRule}) against plain-Java references in
 * double precision over six steps (parameters of three shapes, gradients fed per step), with
 * refused steps (the guard) that must leave no trace.
 */
class MetaRuleTest {

  private static final String[] NAMES = {"layer0/kernel", "layer0/bias", "scale"};
  private static final long[][] SHAPES = {{2, 3}, {4}, {}};
  private static final int STEPS = 6;
  private static final double LEARNING_RATE = 0.05;
  /** float32 against double: constants and arithmetic rounded to float32 (about 1e-7 each). */
  private static final double TOLERANCE = 1e-5;

  private static int size(long[] shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    return n;
  }

  private static float[][] initialParams() {
    SplittableRandom rng = new SplittableRandom(5);
    float[][] p = new float[SHAPES.length][];
    for (int i = 0; i < SHAPES.length; i++) {
      p[i] = new float[size(SHAPES[i])];
      for (int j = 0; j < p[i].length; j++) {
        p[i][j] = (float) (2 * rng.nextDouble() - 1);
      }
    }
    return p;
  }

  /** Gradients of every step: both signs, magnitudes from 1e-3 to 10. */
  private static float[][][] gradients() {
    SplittableRandom rng = new SplittableRandom(42);
    float[][][] g = new float[STEPS][SHAPES.length][];
    for (int t = 0; t < STEPS; t++) {
      for (int i = 0; i < SHAPES.length; i++) {
        g[t][i] = new float[size(SHAPES[i])];
        for (int j = 0; j < g[t][i].length; j++) {
          g[t][i][j] = (float) ((rng.nextDouble() - 0.5) * Math.pow(10, rng.nextInt(-2, 2)));
        }
      }
    }
    return g;
  }

  /** Parameters, slots (per parameter, then t) after every step; and the slot names. */
  private record Run(List<String> slotNames, List<List<float[]>> params,
      List<List<float[]>> slots) {}

  private static Run runGraph(String name, float[][][] g, boolean[] ok) {
    float[][] initial = initialParams();
    try (Graph graph = new Graph(); Session s = new Session(graph)) {
      Ops tf = Ops.create(graph);
      List<Variable<TFloat32>> params = new ArrayList<>();
      List<Placeholder<TFloat32>> feeds = new ArrayList<>();
      for (int i = 0; i < SHAPES.length; i++) {
        Shape shape = Shape.of(SHAPES[i]);
        params.add(tf.withName(NAMES[i].replace('/', '_')).variable(
            tf.constant(shape, DataBuffers.of(initial[i], true, false))));
        feeds.add(tf.placeholder(TFloat32.class, Placeholder.shape(shape)));
      }
      Placeholder<TBool> okFeed = tf.placeholder(TBool.class, Placeholder.shape(Shape.scalar()));
      MetaOptimizer opt = MetaOptimizer.create(name, LEARNING_RATE);
      Op apply = opt.apply(tf, new ArrayList<Operand<TFloat32>>(feeds), params, List.of(NAMES),
          okFeed);
      List<List<float[]>> p = new ArrayList<>();
      List<List<float[]>> sl = new ArrayList<>();
      for (int t = 0; t < STEPS; t++) {
        List<Tensor> owned = new ArrayList<>();
        try {
          Session.Runner r = s.runner().addTarget(apply);
          for (int i = 0; i < SHAPES.length; i++) {
            TFloat32 gt = Tensors.floats(g[t][i], SHAPES[i]);
            owned.add(gt);
            r.feed(feeds.get(i), gt);
          }
          TBool okt = TBool.scalarOf(ok[t]);
          owned.add(okt);
          r.feed(okFeed, okt);
          r.run().close();
        } finally {
          owned.forEach(Tensor::close);
        }
        Session.Runner f = s.runner();
        params.forEach(f::fetch);
        opt.slots().forEach(f::fetch);
        try (Result out = f.run()) {
          List<float[]> pp = new ArrayList<>();
          List<float[]> ss = new ArrayList<>();
          for (int i = 0; i < out.size(); i++) {
            (i < params.size() ? pp : ss).add(Tensors.toArray(out.get(i)));
          }
          p.add(pp);
          sl.add(ss);
        }
      }
      return new Run(List.copyOf(opt.slotNames()), p, sl);
    }
  }

  /** The rule in double precision; {@code s} its slot (ms or momentum), pScale |p0| + sum |delta|. */
  private static final class Reference {
    final String name;
    final double[][] p = new double[SHAPES.length][];
    final double[][] s = new double[SHAPES.length][];
    final double[][] pScale = new double[SHAPES.length][];
    final double[][] sScale = new double[SHAPES.length][];
    int t;

    Reference(String name) {
      this.name = name;
      float[][] init = initialParams();
      for (int i = 0; i < SHAPES.length; i++) {
        int n = init[i].length;
        p[i] = new double[n];
        pScale[i] = new double[n];
        s[i] = new double[n];
        sScale[i] = new double[n];
        for (int j = 0; j < n; j++) {
          p[i][j] = init[i][j];
          pScale[i][j] = Math.abs(init[i][j]);
        }
      }
    }

    void step(float[][] g) {
      t++;
      for (int i = 0; i < SHAPES.length; i++) {
        for (int j = 0; j < p[i].length; j++) {
          double gij = g[i][j];
          double delta;
          switch (name) {
            case "sgd" -> delta = LEARNING_RATE * gij;
            case "rmsprop" -> {
              double a = MetaRule.RMSPROP_DECAY;
              s[i][j] = a * s[i][j] + (1 - a) * gij * gij;
              sScale[i][j] = s[i][j];
              delta = LEARNING_RATE * gij / (Math.sqrt(s[i][j]) + MetaRule.RMSPROP_EPSILON);
            }
            case "nag" -> {
              double mu = MetaRule.NAG_MOMENTUM;
              s[i][j] = mu * s[i][j] + gij;
              sScale[i][j] = mu * sScale[i][j] + Math.abs(gij);
              delta = LEARNING_RATE * (gij + mu * s[i][j]);
            }
            default -> throw new IllegalStateException(name);
          }
          p[i][j] -= delta;
          pScale[i][j] += Math.abs(delta);
        }
      }
    }
  }

  private static void check(String what, double[] expected, double[] scale, float[] actual) {
    assertEquals(expected.length, actual.length, what);
    for (int j = 0; j < expected.length; j++) {
      double error = Math.abs(actual[j] - expected[j]) / scale[j];
      assertTrue(error <= TOLERANCE, what + "[" + j + "]: " + actual[j] + " but expected "
          + expected[j] + " (relative error " + error + ")");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sgd", "rmsprop", "nag"})
  void matchesPlainJavaOverSixStepsAndRefusedStepsLeaveNoTrace(String name) {
    float[][][] g = gradients();
    // Steps 3 and 5 are refused, with non-finite gradients as a bad meta-step has.
    boolean[] ok = {true, true, false, true, false, true};
    for (int t = 0; t < STEPS; t++) {
      if (!ok[t]) {
        g[t][0][1] = Float.NaN;
        g[t][1][0] = Float.POSITIVE_INFINITY;
      }
    }
    Run run = runGraph(name, g, ok);
    boolean slotted = !name.equals("sgd");
    String suffix = name.equals("rmsprop") ? "_ms" : "_momentum";
    assertEquals(slotted ? List.of("layer0_kernel" + suffix, "layer0_bias" + suffix,
        "scale" + suffix, "t") : List.of("t"), run.slotNames());
    Reference ref = new Reference(name);
    for (int t = 0; t < STEPS; t++) {
      if (ok[t]) {
        ref.step(g[t]);
      } else {
        for (int i = 0; i < SHAPES.length; i++) {
          assertArrayEquals(run.params().get(t - 1).get(i), run.params().get(t).get(i),
              "refused step " + (t + 1) + " moved " + NAMES[i]);
        }
      }
      for (int i = 0; i < SHAPES.length; i++) {
        String what = name + " step " + (t + 1) + " " + NAMES[i];
        check(what, ref.p[i], ref.pScale[i], run.params().get(t).get(i));
        if (slotted) {
          check(what + " slot", ref.s[i], ref.sScale[i], run.slots().get(t).get(i));
        }
      }
      List<float[]> slots = run.slots().get(t);
      assertArrayEquals(new float[] {ref.t}, slots.get(slots.size() - 1), "t after step " + (t + 1));
    }
    assertEquals(4, ref.t);
    // The parameters moved by far more than the tolerance, so the comparison says something.
    float[] first = initialParams()[0];
    float[] last = run.params().get(STEPS - 1).get(0);
    double moved = 0;
    for (int j = 0; j < first.length; j++) {
      moved = Math.max(moved, Math.abs(last[j] - first[j]));
    }
    assertTrue(moved > 1e3 * TOLERANCE, name + " moved the kernel by only " + moved);
  }

  @Test
  void theRulesDiffer() {
    float[][][] g = gradients();
    boolean[] ok = {true, true, true, true, true, true};
    float sgd = runGraph("sgd", g, ok).params().get(STEPS - 1).get(2)[0];
    float rms = runGraph("rmsprop", g, ok).params().get(STEPS - 1).get(2)[0];
    float nag = runGraph("nag", g, ok).params().get(STEPS - 1).get(2)[0];
    assertTrue(sgd != rms && sgd != nag && rms != nag, sgd + " " + rms + " " + nag);
  }

  @Test
  void anUnknownNameIsAUserError() {
    UserError e = assertThrows(UserError.class, () -> MetaOptimizer.create("adagrad", 0.1));
    assertEquals("--meta-optimizer adagrad: unknown; allowed: adam, sgd, rmsprop, nag",
        e.getMessage());
  }
}
