package org.l2l.problem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.l2l.UserError;
import org.l2l.data.Images;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The convolutional network: its parameters, its loss against a plain-Java reference, and the
 * gradient TensorFlow takes of it (Conv2D, MaxPool, batch norm) against finite differences of
 * that reference.
 */
public class ConvProblemTest {

  /** Generated images in [0, 1] with labels 0..9. */
  public static Images images(int count, int h, int w, int c, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] pixels = new float[count * h * w * c];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (float) r.nextDouble();
    }
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      labels[i] = r.nextInt(10);
    }
    return new Images(pixels, labels, count, h, w, c);
  }

  @Test
  void parametersAsTheOfficialCode() {
    ConvProblem cifar = new ConvProblem(128, 32, 32, 3, () -> null);
    assertEquals(22682, cifar.numCoordinates());
    assertEquals(256, cifar.flatSize());
    assertEquals(14000, cifar.params().stream().filter(p -> p.group().equals("conv"))
        .mapToLong(ParamSpec::size).sum());
    assertEquals(8682, cifar.params().stream().filter(p -> p.group().equals("fc"))
        .mapToLong(ParamSpec::size).sum());
    ConvProblem fashion = new ConvProblem(128, 28, 28, 1, () -> null);
    assertEquals(256, fashion.flatSize(), "28 -> 14 -> 7 -> 4");
    assertEquals(21882, fashion.numCoordinates());
    assertEquals(List.of("conv", "fc"), ConvProblem.TYPE.groups());
  }

  @Test
  void labelsAreCheckedAndCanonical() {
    assertEquals("0,1,2,3,4", new ConvProblem.Config("cifar10", "0-4", 128, "").labels());
    assertEquals("2,5,6", new ConvProblem.Config("cifar10", "6,5, 2", 128, "").labels());
    assertEquals(List.of(5, 6), new ConvProblem.Config("cifar10", "5-6", 128, "").classes());
    var e = assertThrows(UserError.class, () -> new ConvProblem.Config("cifar10", "3-12", 128,
        ""));
    assertEquals("--labels 3-12: a list of classes 0..9 and ranges, e.g. 0-4 or 5,6",
        e.getMessage());
    e = assertThrows(UserError.class, () -> new ConvProblem.Config("svhn", "0", 128, ""));
    assertEquals("--dataset svhn: unknown; allowed: cifar10, fashion-mnist, mnist",
        e.getMessage());
    assertEquals("data/fashion-mnist", new ConvProblem.Config("fashion-mnist", "0", 1, "")
        .dataPath().toString());
  }

  // Tiny sizes, odd on purpose: SAME padding of the pooling then pads one row or column.
  private static final int B = 3;
  private static final int H = 7;
  private static final int W = 6;
  private static final int C = 2;

  /** The loss of {@code theta} on the given images and labels, built by the problem. */
  private static final class Built implements AutoCloseable {
    final Graph g = new Graph();
    final Session s = new Session(g);
    final Placeholder<TFloat32> flat;
    final Placeholder<TFloat32> x;
    final Placeholder<TFloat32> y;
    final Operand<TFloat32> loss;
    final Operand<TFloat32> gradient;

    Built(ConvProblem p) {
      Ops tf = Ops.create(g);
      flat = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(p.numCoordinates())));
      x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(B, H, W, C)));
      y = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(B, 10)));
      List<Operand<TFloat32>> params = new ArrayList<>();
      long offset = 0;
      for (ParamSpec spec : p.params()) {
        // int32 bounds: Slice's gradient mixes them with int32 shapes.
        params.add(tf.reshape(tf.slice(flat, tf.constant(new int[] {(int) offset}),
            tf.constant(new int[] {(int) spec.size()})), tf.constant(spec.shape())));
        offset += spec.size();
      }
      Operand<TFloat32> logp = tf.nn.logSoftmax(p.logits(tf, x, params));
      loss = tf.math.mul(tf.reduceSum(tf.math.mul(y, logp), tf.constant(new int[] {0, 1})),
          tf.constant(-1f / B));
      gradient = tf.gradients(loss, List.of(flat)).dy(0);
    }

    float[][] run(float[] theta, float[] images, float[] onehot) {
      List<Tensor> owned = new ArrayList<>();
      try {
        TFloat32 t = Tensors.floats(theta, theta.length);
        owned.add(t);
        TFloat32 xt = Tensors.floats(images, B, H, W, C);
        owned.add(xt);
        TFloat32 yt = Tensors.floats(onehot, B, 10);
        owned.add(yt);
        try (Result r = s.runner().feed(flat, t).feed(x, xt).feed(y, yt).fetch(loss)
            .fetch(gradient).run()) {
          return new float[][] {{Tensors.toScalar(r.get(0))}, Tensors.toArray(r.get(1))};
        }
      } finally {
        owned.forEach(Tensor::close);
      }
    }

    @Override
    public void close() {
      s.close();
      g.close();
    }
  }

  @Test
  void lossAndGradientMatchAPlainJavaNetwork() {
    ConvProblem p = new ConvProblem(B, H, W, C, () -> null);
    Images data = images(B, H, W, C, 5);
    float[] onehot = new float[B * 10];
    for (int i = 0; i < B; i++) {
      onehot[i * 10 + data.labels()[i]] = 1;
    }
    // Parameters larger than the N(0, 0.01) start, so that every part is far from linear.
    float[] theta = new float[(int) p.numCoordinates()];
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < theta.length; i++) {
      theta[i] = (float) (Random.gaussian(r) * 0.3);
    }
    double[] th = new double[theta.length];
    for (int i = 0; i < th.length; i++) {
      th[i] = theta[i];
    }
    try (Built b = new Built(p)) {
      float[][] out = b.run(theta, data.pixels(), onehot);
      double expected = Reference.loss(p, th, data);
      assertEquals(expected, out[0][0], 1e-5 * (1 + expected));
      assertTrue(expected > 0.5, "a loss far from zero: " + expected);
      float[] grad = out[1];
      double largest = 0;
      for (float g : grad) {
        largest = Math.max(largest, Math.abs(g));
      }
      // Central differences of the double-precision reference at the 40 largest components and
      // 40 random ones; every parameter tensor is among them.
      List<Integer> checked = new ArrayList<>();
      java.util.stream.IntStream.range(0, grad.length).boxed()
          .sorted((i, j) -> Float.compare(Math.abs(grad[j]), Math.abs(grad[i]))).limit(40)
          .forEach(checked::add);
      SplittableRandom pick = new SplittableRandom(9);
      for (int k = 0; k < 40; k++) {
        checked.add(pick.nextInt(grad.length));
      }
      long offset = 0;
      for (ParamSpec spec : p.params()) { // one component of every tensor
        checked.add((int) offset);
        offset += spec.size();
      }
      double eps = 1e-5;
      for (int i : checked) {
        double keep = th[i];
        th[i] = keep + eps;
        double up = Reference.loss(p, th, data);
        th[i] = keep - eps;
        double down = Reference.loss(p, th, data);
        th[i] = keep;
        double fd = (up - down) / (2 * eps);
        assertEquals(fd, grad[i], 2e-3 * largest, "component " + i);
      }
    }
  }

  /** The network in plain Java, double precision. */
  static final class Reference {

    static double loss(ConvProblem p, double[] th, Images data) {
      int[] at = {0};
      double[][][][] x = new double[B][H][W][C];
      for (int n = 0; n < B; n++) {
        for (int i = 0; i < H; i++) {
          for (int j = 0; j < W; j++) {
            for (int c = 0; c < C; c++) {
              x[n][i][j][c] = data.pixels()[((n * H + i) * W + j) * C + c];
            }
          }
        }
      }
      int cin = C;
      for (int k = 0; k < 3; k++) {
        x = conv(x, th, at, cin);
        x = bnRelu(x, th, at);
        x = pool(x);
        cin = 16;
      }
      int flat = p.flatSize();
      double[][] f = new double[B][flat];
      for (int n = 0; n < B; n++) {
        int q = 0;
        for (double[][] row : x[n]) {
          for (double[] col : row) {
            for (double v : col) {
              f[n][q++] = v;
            }
          }
        }
      }
      double[][] h = dense(f, th, at, flat, 32);
      // batch norm over the batch, offset, ReLU
      for (int j = 0; j < 32; j++) {
        double mean = 0;
        for (int n = 0; n < B; n++) {
          mean += h[n][j] / B;
        }
        double var = 0;
        for (int n = 0; n < B; n++) {
          var += (h[n][j] - mean) * (h[n][j] - mean) / B;
        }
        for (int n = 0; n < B; n++) {
          h[n][j] = Math.max(0, (h[n][j] - mean) / Math.sqrt(var + 1e-3) + th[at[0] + j]);
        }
      }
      at[0] += 32;
      double[][] logits = dense(h, th, at, 32, 10);
      double total = 0;
      for (int n = 0; n < B; n++) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits[n]) {
          max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : logits[n]) {
          sum += Math.exp(v - max);
        }
        total -= logits[n][data.labels()[n]] - max - Math.log(sum);
      }
      return total / B;
    }

    static double[][] dense(double[][] x, double[] th, int[] at, int in, int out) {
      double[][] y = new double[x.length][out];
      int w = at[0];
      int b = w + in * out;
      for (int n = 0; n < x.length; n++) {
        for (int j = 0; j < out; j++) {
          double s = th[b + j];
          for (int i = 0; i < in; i++) {
            s += x[n][i] * th[w + i * out + j];
          }
          y[n][j] = s;
        }
      }
      at[0] = b + out;
      return y;
    }

    /** 5x5 SAME convolution, 16 channels, with bias; kernel [5, 5, cin, 16]. */
    static double[][][][] conv(double[][][][] x, double[] th, int[] at, int cin) {
      int h = x[0].length;
      int w = x[0][0].length;
      double[][][][] y = new double[B][h][w][16];
      int kw = at[0];
      int bias = kw + 25 * cin * 16;
      for (int n = 0; n < B; n++) {
        for (int i = 0; i < h; i++) {
          for (int j = 0; j < w; j++) {
            for (int o = 0; o < 16; o++) {
              double s = th[bias + o];
              for (int di = 0; di < 5; di++) {
                for (int dj = 0; dj < 5; dj++) {
                  int ii = i + di - 2;
                  int jj = j + dj - 2;
                  if (ii < 0 || jj < 0 || ii >= h || jj >= w) {
                    continue;
                  }
                  for (int c = 0; c < cin; c++) {
                    s += x[n][ii][jj][c] * th[kw + ((di * 5 + dj) * cin + c) * 16 + o];
                  }
                }
              }
              y[n][i][j][o] = s;
            }
          }
        }
      }
      at[0] = bias + 16;
      return y;
    }

    /** Batch norm over batch and positions per channel, offset beta, then ReLU. */
    static double[][][][] bnRelu(double[][][][] x, double[] th, int[] at) {
      int h = x[0].length;
      int w = x[0][0].length;
      int m = B * h * w;
      for (int o = 0; o < 16; o++) {
        double mean = 0;
        for (double[][][] a : x) {
          for (double[][] b : a) {
            for (double[] c : b) {
              mean += c[o] / m;
            }
          }
        }
        double var = 0;
        for (double[][][] a : x) {
          for (double[][] b : a) {
            for (double[] c : b) {
              var += (c[o] - mean) * (c[o] - mean) / m;
            }
          }
        }
        for (double[][][] a : x) {
          for (double[][] b : a) {
            for (double[] c : b) {
              c[o] = Math.max(0, (c[o] - mean) / Math.sqrt(var + 1e-3) + th[at[0] + o]);
            }
          }
        }
      }
      at[0] += 16;
      return x;
    }

    /** Max-pool 2x2, stride 2, SAME: odd sides pad one row or column at the end. */
    static double[][][][] pool(double[][][][] x) {
      int h = x[0].length;
      int w = x[0][0].length;
      int oh = (h + 1) / 2;
      int ow = (w + 1) / 2;
      double[][][][] y = new double[B][oh][ow][16];
      for (int n = 0; n < B; n++) {
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < ow; j++) {
            for (int o = 0; o < 16; o++) {
              double max = Double.NEGATIVE_INFINITY;
              for (int di = 0; di < 2; di++) {
                for (int dj = 0; dj < 2; dj++) {
                  int ii = 2 * i + di;
                  int jj = 2 * j + dj;
                  if (ii < h && jj < w) {
                    max = Math.max(max, x[n][ii][jj][o]);
                  }
                }
              }
              y[n][i][j][o] = max;
            }
          }
        }
      }
      return y;
    }
  }
}
