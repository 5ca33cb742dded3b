package org.l2l.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.l2l.problem.Instance;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemGraph;
import org.l2l.problem.QuadraticProblem;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;
import org.l2l.rule.RuleGraph;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The meta-gradient with StopGradient on the optimizee gradients equals the derivative of the
 * meta-loss in which those gradients are frozen at their recorded values, estimated by central
 * finite differences.
 */
class MetaGradientTest {

  private static final int U = 5;
  private static final Problem PROBLEM =
      new QuadraticProblem(1, 3, QuadraticProblem.Distribution.GAUSSIAN, 0.01);
  private static final CoordinatewiseLstm LSTM = new CoordinatewiseLstm(
      new CoordinatewiseLstm.Config(1, 4, 1.0, 0.3, Preprocessing.NONE, 10));

  @Test
  void stopGradientMetaGradientMatchesFrozenFiniteDifferences() {
    Instance inst = PROBLEM.sample(new SplittableRandom(9));
    List<float[]> grads;
    List<float[]> analytic;
    List<float[]> phi;
    try (Unroll u = new Unroll(PROBLEM, LSTM, new Unroll.Options(U, false, false, 0.001, 0, 4,
        1))) {
      u.reset(inst);
      grads = u.optimizeeGradients(inst, 0);
      analytic = u.metaGradient(inst, 0);
      phi = u.metaParamValues();
    }
    try (FrozenMetaLoss frozen = new FrozenMetaLoss(inst, grads)) {
      int checked = 0;
      double eps = 1e-2;
      for (int p = 0; p < phi.size(); p++) {
        // The largest few components of each tensor, where the relative check is meaningful.
        for (int k : FiniteDifferences.largest(analytic.get(p), 3)) {
          List<float[]> plus = FiniteDifferences.copy(phi);
          plus.get(p)[k] += (float) eps;
          List<float[]> minus = FiniteDifferences.copy(phi);
          minus.get(p)[k] -= (float) eps;
          double fd = (frozen.value(plus) - frozen.value(minus)) / (2 * eps);
          double a = analytic.get(p)[k];
          assertEquals(a, fd, 0.02 * Math.abs(a) + 1e-3,
              LSTM.paramNames().get(p) + "[" + k + "]");
          checked++;
        }
      }
      assertTrue(checked >= 9);
    }
  }

  /** The meta-loss as a function of phi with the optimizee gradients fed as constants. */
  private static final class FrozenMetaLoss implements AutoCloseable {
    private final Graph graph = new Graph();
    private final Session session;
    private final Instance inst;
    private final ProblemGraph pg;
    private final Operand<TFloat32> metaLoss;
    private final List<Placeholder<TFloat32>> inputs = new ArrayList<>();
    private final Op load;

    FrozenMetaLoss(Instance inst, List<float[]> grads) {
      this.inst = inst;
      Ops tf = Ops.create(graph);
      pg = PROBLEM.build(tf, U);
      RuleGraph rg = LSTM.build(tf, PROBLEM.numCoordinates(), new SplittableRandom(0));
      List<Op> assigns = new ArrayList<>();
      for (var v : rg.metaParams()) {
        Placeholder<TFloat32> in = tf.placeholder(TFloat32.class,
            Placeholder.shape(v.shape()));
        inputs.add(in);
        assigns.add(tf.assign(v, in));
      }
      load = tf.withControlDependencies(assigns).noOp();
      long[] shape = PROBLEM.params().get(0).shape();
      Operand<TFloat32> theta = tf.constant(inst.initialTheta());
      List<Operand<TFloat32>> state = new ArrayList<>();
      for (Shape s : rg.stateShapes()) {
        state.add(tf.zeros(tf.constant(s.asArray()), TFloat32.class));
      }
      List<Operand<TFloat32>> losses = new ArrayList<>();
      for (int t = 0; t < U; t++) {
        RuleGraph.Step step = rg.step(tf, tf.constant(grads.get(t)), state);
        theta = tf.math.add(theta, step.update());
        state = step.state();
        losses.add(pg.loss(tf, List.of(tf.reshape(theta, tf.constant(shape))), t + 1));
      }
      metaLoss = tf.math.addN(losses);
      session = new Session(graph);
    }

    double value(List<float[]> phi) {
      List<Tensor> owned = new ArrayList<>();
      try {
        Session.Runner r = session.runner();
        for (int i = 0; i < phi.size(); i++) {
          Tensor t = Tensors.floats(phi.get(i), inputs.get(i).shape().asArray());
          owned.add(t);
          r.feed(inputs.get(i), t);
        }
        r.addTarget(load).run();
        Session.Runner f = session.runner();
        pg.feed(f, inst, 0, owned);
        try (var out = f.fetch(metaLoss).run()) {
          return Tensors.toScalar(out.get(0));
        }
      } finally {
        owned.forEach(Tensor::close);
      }
    }

    @Override
    public void close() {
      session.close();
      graph.close();
    }
  }
}
