package org.l2l.rule;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * How a gradient coordinate is turned into the LSTM's input (paper appendix A).
 *
 * <p>The paper and the official code differ; both are here. {@link #LOG_AND_SIGN} is the official
 * code's smooth form, {@link #LOG_AND_SIGN_PAPER} the paper's two-branch form.
 */
public enum Preprocessing {
  /** The gradient itself, one input per coordinate. */
  NONE("none", 1),
  /**
   * The official code's LogAndSign(k): [max(log(|g| + eps) / k, -1), clip(g e^k, -1, 1)], eps the
   * float32 machine epsilon.
   */
  LOG_AND_SIGN("log-and-sign", 2),
  /**
   * The paper's form: (log|g| / p, sign(g)) if |g| >= e^-p, else (-1, e^p g).
   */
  LOG_AND_SIGN_PAPER("log-and-sign-paper", 2);

  /** float32 machine epsilon, as numpy's finfo(float32).eps in the official code. */
  public static final float FLOAT32_EPS = Math.ulp(1.0f);
  /** The paper's p. */
  public static final double P_PAPER = 10;
  /** The official code's k for MNIST. */
  public static final double K_OFFICIAL = 5;

  private final String flag;
  private final int inputSize;

  Preprocessing(String flag, int inputSize) {
    this.flag = flag;
    this.inputSize = inputSize;
  }

  /** The name used on the command line and in config files. */
  public String flag() {
    return flag;
  }

  /** Number of LSTM inputs per coordinate. */
  public int inputSize() {
    return inputSize;
  }

  /** The preprocessing named {@code flag}, or null. */
  public static Preprocessing fromFlag(String flag) {
    for (Preprocessing p : values()) {
      if (p.flag.equals(flag)) {
        return p;
      }
    }
    return null;
  }

  /** Names of all preprocessings, for error messages. */
  public static List<String> flags() {
    return java.util.Arrays.stream(values()).map(Preprocessing::flag).toList();
  }

  /** Builds the preprocessed input [n, inputSize] of a gradient [n] with parameter p (or k). */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> grad, double p) {
    return apply(tf, grad, p, 1);
  }

  /** Builds the preprocessed input as rows, [inputSize, n], of a gradient [n]. */
  public Operand<TFloat32> applyRows(Ops tf, Operand<TFloat32> grad, double p) {
    return apply(tf, grad, p, 0);
  }

  private Operand<TFloat32> apply(Ops tf, Operand<TFloat32> grad, double p, int axis) {
    Operand<TFloat32> column = tf.expandDims(grad, tf.constant(axis));
    switch (this) {
      case NONE:
        return column;
      case LOG_AND_SIGN: {
        Operand<TFloat32> log = tf.math.div(
            tf.math.log(tf.math.add(tf.math.abs(column), tf.constant(FLOAT32_EPS))),
            tf.constant((float) p));
        Operand<TFloat32> clampedLog = tf.math.maximum(log, tf.constant(-1f));
        Operand<TFloat32> scaled = tf.clipByValue(
            tf.math.mul(column, tf.constant((float) Math.exp(p))),
            tf.constant(-1f), tf.constant(1f));
        return tf.concat(List.of(clampedLog, scaled), tf.constant(axis));
      }
      case LOG_AND_SIGN_PAPER: {
        Operand<TFloat32> threshold = tf.constant((float) Math.exp(-p));
        Operand<TFloat32> abs = tf.math.abs(column);
        Operand<org.tensorflow.types.TBool> large = tf.math.greaterEqual(abs, threshold);
        // log of max(|g|, e^-p) keeps the unselected branch finite, so second derivatives
        // through Select do not turn into 0 * inf = NaN.
        Operand<TFloat32> logBranch = tf.math.div(
            tf.math.log(tf.math.maximum(abs, threshold)), tf.constant((float) p));
        Operand<TFloat32> first =
            tf.select(large, logBranch, tf.fill(tf.shape(column), tf.constant(-1f)));
        Operand<TFloat32> second = tf.select(large, tf.math.sign(column),
            tf.math.mul(column, tf.constant((float) Math.exp(p))));
        return tf.concat(List.of(first, second), tf.constant(axis));
      }
      default:
        throw new IllegalStateException(name());
    }
  }

  /** Plain-Java reference of {@link #apply} for one gradient value, for tests. */
  public float[] reference(float g, double p) {
    switch (this) {
      case NONE:
        return new float[] {g};
      case LOG_AND_SIGN:
        return new float[] {
          (float) Math.max(Math.log(Math.abs(g) + FLOAT32_EPS) / p, -1),
          (float) Math.max(-1, Math.min(1, g * Math.exp(p)))
        };
      case LOG_AND_SIGN_PAPER:
        return Math.abs(g) >= Math.exp(-p)
            ? new float[] {(float) (Math.log(Math.abs(g)) / p), Math.signum(g)}
            : new float[] {-1f, (float) (Math.exp(p) * g)};
      default:
        throw new IllegalStateException(name());
    }
  }
}
