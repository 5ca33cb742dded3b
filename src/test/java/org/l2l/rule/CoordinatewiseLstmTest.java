package org.l2l.rule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The LSTM graph (features x padded coordinates layout, fused bias and scale) against a plain-Java
 * LSTM that reads the weights as the .l2lw format documents them: kernel [inputs + hidden,
 * 4 hidden] with gates input, forget, output, candidate, forget bias added to the forget gate, and
 * update = output_scale * (h . kernel + bias).
 */
class CoordinatewiseLstmTest {

  private static void check(int n, Preprocessing pre) {
    CoordinatewiseLstm.Config config = new CoordinatewiseLstm.Config(2, 3, 0.7, 0.3, pre, 5);
    CoordinatewiseLstm lstm = new CoordinatewiseLstm(config);
    List<float[]> w = lstm.initialValues(new SplittableRandom(7));
    // Non-zero biases, so that their placement is checked too.
    SplittableRandom r = new SplittableRandom(2);
    for (float[] v : w) {
      for (int i = 0; i < v.length; i++) {
        v[i] += (float) (0.3 * (r.nextDouble() - 0.5));
      }
    }
    int steps = 3;
    float[][] grads = new float[steps][n];
    for (int t = 0; t < steps; t++) {
      for (int i = 0; i < n; i++) {
        grads[t][i] = (float) ((r.nextDouble() - 0.5) * Math.pow(10, -4 + 4 * r.nextDouble()));
      }
    }
    float[][] actual = new float[steps][];
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      RuleGraph rg = lstm.build(tf, n, new SplittableRandom(7));
      List<Operand<TFloat32>> state = new ArrayList<>();
      for (Shape s : rg.stateShapes()) {
        state.add(tf.zeros(tf.constant(s.asArray()), TFloat32.class));
      }
      List<Operand<TFloat32>> updates = new ArrayList<>();
      for (int t = 0; t < steps; t++) {
        RuleGraph.Step step = rg.step(tf, tf.constant(grads[t]), state);
        updates.add(step.update());
        state = step.state();
      }
      var assigns = new ArrayList<org.tensorflow.op.Op>();
      for (int i = 0; i < w.size(); i++) {
        assigns.add(tf.assign(rg.metaParams().get(i),
            tf.constant(Shape.of(lstm.paramShapes().get(i)),
                org.tensorflow.ndarray.buffer.DataBuffers.of(w.get(i), true, false))));
      }
      try (Session s = new Session(g)) {
        var runner = s.runner();
        assigns.forEach(runner::addTarget);
        runner.run();
        var fetch = s.runner();
        updates.forEach(fetch::fetch);
        try (var out = fetch.run()) {
          for (int t = 0; t < steps; t++) {
            actual[t] = Tensors.toArray(out.get(t));
          }
        }
      }
    }
    int h = config.hiddenSize();
    for (int i = 0; i < n; i++) {
      double[][] c = new double[2][h];
      double[][] hs = new double[2][h];
      for (int t = 0; t < steps; t++) {
        float[] in = pre.reference(grads[t][i], config.preprocessP());
        double[] x = new double[in.length];
        for (int k = 0; k < in.length; k++) {
          x[k] = in[k];
        }
        for (int l = 0; l < 2; l++) {
          float[] kernel = w.get(2 * l);
          float[] bias = w.get(2 * l + 1);
          double[] xh = new double[x.length + h];
          System.arraycopy(x, 0, xh, 0, x.length);
          System.arraycopy(hs[l], 0, xh, x.length, h);
          double[] z = new double[4 * h];
          for (int j = 0; j < 4 * h; j++) {
            z[j] = bias[j] + (j >= h && j < 2 * h ? config.forgetBias() : 0);
            for (int k = 0; k < xh.length; k++) {
              z[j] += xh[k] * kernel[k * 4 * h + j];
            }
          }
          for (int j = 0; j < h; j++) {
            double ig = sigmoid(z[j]);
            double fg = sigmoid(z[h + j]);
            double og = sigmoid(z[2 * h + j]);
            double cand = Math.tanh(z[3 * h + j]);
            c[l][j] = fg * c[l][j] + ig * cand;
            hs[l][j] = og * Math.tanh(c[l][j]);
          }
          x = hs[l].clone();
        }
        double y = w.get(5)[0];
        for (int j = 0; j < h; j++) {
          y += x[j] * w.get(4)[j];
        }
        double expected = config.outputScale() * y;
        assertEquals(expected, actual[t][i], 1e-5, "n " + n + " coordinate " + i + " step " + t);
      }
    }
  }

  private static double sigmoid(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  @Test
  void paddedGraphMatchesPlainJavaLstm() {
    check(5, Preprocessing.LOG_AND_SIGN_PAPER);
    check(21, Preprocessing.LOG_AND_SIGN);
  }

  @Test
  void unpaddedGraphMatchesPlainJavaLstm() {
    check(16, Preprocessing.NONE);
  }
}
