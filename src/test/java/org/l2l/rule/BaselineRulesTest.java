package org.l2l.rule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Each baseline's graph rule against a plain-Java reference over several steps. */
class BaselineRulesTest {

  private static final int N = 7;
  private static final int STEPS = 6;

  /** Gradients of every step, from a fixed seed, with a wide range of magnitudes and signs. */
  private static float[][] gradients() {
    SplittableRandom rng = new SplittableRandom(42);
    float[][] g = new float[STEPS][N];
    for (int t = 0; t < STEPS; t++) {
      for (int i = 0; i < N; i++) {
        g[t][i] = (float) ((rng.nextDouble() - 0.5) * Math.pow(10, rng.nextInt(-3, 2)));
      }
    }
    return g;
  }

  /** Runs {@code rule} for STEPS steps in a graph; returns the updates of every step. */
  private static float[][] graphUpdates(UpdateRule rule, float[][] g) {
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      RuleGraph rg = rule.build(tf, N, new SplittableRandom(1));
      List<Operand<TFloat32>> state = new ArrayList<>();
      for (Shape s : rg.stateShapes()) {
        state.add(tf.zeros(tf.constant(s.asArray()), TFloat32.class));
      }
      List<Operand<TFloat32>> updates = new ArrayList<>();
      for (int t = 0; t < STEPS; t++) {
        RuleGraph.Step step = rg.step(tf, tf.constant(g[t]), state);
        updates.add(step.update());
        state = step.state();
      }
      try (Session s = new Session(graph)) {
        Session.Runner r = s.runner();
        updates.forEach(r::fetch);
        try (Result out = r.run()) {
          float[][] u = new float[STEPS][];
          for (int t = 0; t < STEPS; t++) {
            u[t] = Tensors.toArray(out.get(t));
          }
          return u;
        }
      }
    }
  }

  /** Relative tolerance of float32 against a double reference. */
  private static final double TOLERANCE = 1e-5;
  /**
   * Adam's bias correction 1 - 0.999^t cancels in float32 (relative error about 3e-5 at t = 2),
   * so its updates carry that error.
   */
  private static final double ADAM_TOLERANCE = 1e-4;

  private static void assertClose(double[][] expected, float[][] actual) {
    assertClose(expected, actual, TOLERANCE);
  }

  private static void assertClose(double[][] expected, float[][] actual, double relative) {
    for (int t = 0; t < STEPS; t++) {
      for (int i = 0; i < N; i++) {
        double tol = relative * Math.abs(expected[t][i]) + 1e-9;
        assertEquals(expected[t][i], actual[t][i], tol, "step " + t + " coordinate " + i);
      }
    }
  }

  @Test
  void sgdMatchesReference() {
    float[][] g = gradients();
    double lr = 0.3;
    double[][] expected = new double[STEPS][N];
    for (int t = 0; t < STEPS; t++) {
      for (int i = 0; i < N; i++) {
        expected[t][i] = -lr * g[t][i];
      }
    }
    assertClose(expected, graphUpdates(new Sgd(lr), g));
  }

  @Test
  void nagMatchesReference() {
    float[][] g = gradients();
    double lr = 0.05;
    double mu = 0.9;
    double[] v = new double[N];
    double[][] expected = new double[STEPS][N];
    for (int t = 0; t < STEPS; t++) {
      for (int i = 0; i < N; i++) {
        v[i] = mu * v[i] + g[t][i];
        expected[t][i] = -lr * (g[t][i] + mu * v[i]);
      }
    }
    assertClose(expected, graphUpdates(new Nag(lr, mu), g));
  }

  @Test
  void rmspropMatchesReference() {
    float[][] g = gradients();
    double lr = 0.01;
    double alpha = 0.99;
    double eps = 1e-8;
    double[] m = new double[N];
    double[][] expected = new double[STEPS][N];
    for (int t = 0; t < STEPS; t++) {
      for (int i = 0; i < N; i++) {
        m[i] = alpha * m[i] + (1 - alpha) * g[t][i] * g[t][i];
        expected[t][i] = -lr * g[t][i] / (Math.sqrt(m[i]) + eps);
      }
    }
    assertClose(expected, graphUpdates(new RmsProp(lr, alpha, eps), g));
  }

  @Test
  void adamMatchesReference() {
    float[][] g = gradients();
    double lr = 0.1;
    double b1 = 0.9;
    double b2 = 0.999;
    double eps = 1e-8;
    double[] m = new double[N];
    double[] v = new double[N];
    double[][] expected = new double[STEPS][N];
    for (int t = 0; t < STEPS; t++) {
      double stepSize = lr * Math.sqrt(1 - Math.pow(b2, t + 1)) / (1 - Math.pow(b1, t + 1));
      for (int i = 0; i < N; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[t][i];
        v[i] = b2 * v[i] + (1 - b2) * g[t][i] * g[t][i];
        expected[t][i] = -stepSize * m[i] / (Math.sqrt(v[i]) + eps);
      }
    }
    assertClose(expected, graphUpdates(new Adam(lr, b1, b2, eps), g), ADAM_TOLERANCE);
  }

  @Test
  void gridSpansFourDecadesAndMore() {
    double[] grid = Rules.learningRateGrid();
    assertEquals(15, grid.length);
    assertEquals(1e-4, grid[0], 1e-12);
    assertEquals(5.0, grid[grid.length - 1], 1e-12);
  }
}
