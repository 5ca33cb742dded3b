package org.l2l.tf;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.core.OnesLike;
import org.tensorflow.op.math.SigmoidGrad;
import org.tensorflow.op.math.SoftplusGrad;
import org.tensorflow.op.math.SqrtGrad;
import org.tensorflow.op.math.TanhGrad;
import org.tensorflow.op.nn.ReluGrad;
import org.tensorflow.types.TFloat32;

/**
 * Gradients of gradient ops that TensorFlow Java's C++ registry lacks, written in Java and
 * registered process-wide with {@link TensorFlow#registerCustomGradient}, so that second
 * derivatives (the meta-gradient through the optimizee's gradient) can be taken on every problem:
 * SigmoidGrad, TanhGrad, ReluGrad, SqrtGrad, SoftplusGrad, and OnesLike (the seed of every
 * {@code tf.gradients}, which lies on the path from the parameters to their gradient).
 *
 * <p>Each function maps the incoming gradient g of the op's output to the gradients of its
 * inputs, in input order. They never ask an operand for its shape: {@code Output.shape()} inside a
 * custom gradient deadlocks (the graph lock is held while gradients are built).
 */
public final class SecondOrderGradients {

  private static boolean registered;

  private SecondOrderGradients() {}

  /** Registers the gradients once per process; later calls do nothing. */
  public static synchronized void register() {
    if (registered) {
      return;
    }
    // sigmoid'(x) as a function of y = sigmoid(x): SigmoidGrad(y, dy) = dy * y * (1 - y).
    TensorFlow.registerCustomGradient(SigmoidGrad.Inputs.class, (tf, op, grads) -> {
      Operand<TFloat32> y = f(op.y);
      Operand<TFloat32> dy = f(op.dy);
      Operand<TFloat32> g = f(grads.get(0));
      Operand<TFloat32> one = tf.constant(1f);
      Operand<TFloat32> gradY = tf.math.mul(tf.math.mul(g, dy),
          tf.math.sub(one, tf.math.mul(tf.constant(2f), y)));
      Operand<TFloat32> gradDy = tf.math.sigmoidGrad(y, g);
      return List.of(gradY, gradDy);
    });
    // TanhGrad(y, dy) = dy * (1 - y^2).
    TensorFlow.registerCustomGradient(TanhGrad.Inputs.class, (tf, op, grads) -> {
      Operand<TFloat32> y = f(op.y);
      Operand<TFloat32> dy = f(op.dy);
      Operand<TFloat32> g = f(grads.get(0));
      Operand<TFloat32> gradY =
          tf.math.mul(tf.math.mul(g, dy), tf.math.mul(tf.constant(-2f), y));
      Operand<TFloat32> gradDy = tf.math.tanhGrad(y, g);
      return List.of(gradY, gradDy);
    });
    // ReluGrad(gradients, features) = gradients * (features > 0): linear in gradients, locally
    // constant in features.
    TensorFlow.registerCustomGradient(ReluGrad.Inputs.class, (tf, op, grads) -> {
      Operand<TFloat32> features = f(op.features);
      Operand<TFloat32> g = f(grads.get(0));
      return List.of(tf.nn.reluGrad(g, features), tf.zerosLike(features));
    });
    // SqrtGrad(y, dy) = dy / (2 y).
    TensorFlow.registerCustomGradient(SqrtGrad.Inputs.class, (tf, op, grads) -> {
      Operand<TFloat32> y = f(op.y);
      Operand<TFloat32> dy = f(op.dy);
      Operand<TFloat32> g = f(grads.get(0));
      Operand<TFloat32> gradY = tf.math.neg(tf.math.div(tf.math.mul(g, dy),
          tf.math.mul(tf.constant(2f), tf.math.square(y))));
      Operand<TFloat32> gradDy = tf.math.sqrtGrad(y, g);
      return List.of(gradY, gradDy);
    });
    // SoftplusGrad(gradients, features) = gradients * sigmoid(features).
    TensorFlow.registerCustomGradient(SoftplusGrad.Inputs.class, (tf, op, grads) -> {
      Operand<TFloat32> gradients = f(op.gradients);
      Operand<TFloat32> features = f(op.features);
      Operand<TFloat32> g = f(grads.get(0));
      Operand<TFloat32> s = tf.math.sigmoid(features);
      Operand<TFloat32> gradGradients = tf.math.mul(g, s);
      Operand<TFloat32> gradFeatures = tf.math.mul(tf.math.mul(g, gradients),
          tf.math.sigmoidGrad(s, tf.onesLike(s)));
      return List.of(gradGradients, gradFeatures);
    });
    // OnesLike(x) does not depend on the values of x.
    TensorFlow.registerCustomGradient(OnesLike.Inputs.class,
        (tf, op, grads) -> List.of(tf.zerosLike(op.x)));
    registered = true;
  }

  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> f(Operand<?> o) {
    return (Operand<TFloat32>) o;
  }
}
