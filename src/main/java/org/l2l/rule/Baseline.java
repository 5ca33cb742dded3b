package org.l2l.rule;

import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Common part of the hand-designed rules: a learning rate fed through a placeholder whose default
 * is the configured value, and state tensors of the coordinate vector's shape.
 */
abstract class Baseline implements UpdateRule {

  private final String name;
  private final float learningRate;

  Baseline(String name, double learningRate) {
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException("learning rate of " + name + " must be positive");
    }
    this.name = name;
    this.learningRate = (float) learningRate;
  }

  @Override
  public String name() {
    return name;
  }

  /** The configured learning rate. */
  public double learningRate() {
    return learningRate;
  }

  /** Number of state tensors of shape [n]. */
  abstract int vectorStates();

  /** Whether the rule keeps a scalar step counter (after the vector states). */
  boolean countsSteps() {
    return false;
  }

  /** The update for one step, given the learning rate operand. */
  abstract RuleGraph.Step step(Ops tf, Operand<TFloat32> lr, Operand<TFloat32> grad,
      List<Operand<TFloat32>> state);

  @Override
  public RuleGraph build(Ops tf, long n, SplittableRandom initRng) {
    Operand<TFloat32> lr = tf.withName("learning_rate")
        .placeholderWithDefault(tf.constant(learningRate), Shape.scalar());
    List<Shape> shapes = new java.util.ArrayList<>();
    for (int i = 0; i < vectorStates(); i++) {
      shapes.add(Shape.of(n));
    }
    if (countsSteps()) {
      shapes.add(Shape.scalar());
    }
    List<Shape> stateShapes = List.copyOf(shapes);
    return new RuleGraph() {
      @Override
      public List<Shape> stateShapes() {
        return stateShapes;
      }

      @Override
      public Step step(Ops tf, Operand<TFloat32> grad, List<Operand<TFloat32>> state) {
        return Baseline.this.step(tf, lr, grad, state);
      }

      @Override
      public Operand<TFloat32> learningRate() {
        return lr;
      }
    };
  }

  static Operand<TFloat32> c(Ops tf, double v) {
    return tf.constant((float) v);
  }
}
