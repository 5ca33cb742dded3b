package org.l2l.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.Evaluator;
import org.l2l.meta.Seeds;
import org.l2l.meta.Unroll;
import org.l2l.problem.Instance;
import org.l2l.problem.ParamSpec;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemGraph;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.tf.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The README example: the learned optimizer lowers the logistic regression's loss, and gives the
 * same losses as the project's own evaluation of the same rule on the same model (the model
 * wrapped as a {@link Problem} and run through {@link Unroll} by {@link Evaluator}).
 */
class LogisticRegressionTest {

  /**
   * An optimizer meta-trained on the default problem (10-dim quadratics) by {@code ./l2l train
   * --epochs 200 --run t} (seed 1): 2 layers of 20 units, no preprocessing, output scale 1.
   */
  static Path trainedOptimizer() {
    try {
      return Path.of(LogisticRegressionTest.class.getResource("quadratic-200.l2lw").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The example's model as a project problem: parameters w [2] and b [] (3 coordinates). */
  static final class LogisticProblem implements Problem {
    private final LogisticRegression.Data data;

    LogisticProblem(LogisticRegression.Data data) {
      this.data = data;
    }

    @Override
    public String name() {
      return "logistic";
    }

    @Override
    public List<ParamSpec> params() {
      return List.of(new ParamSpec("w", new long[] {2}), new ParamSpec("b", new long[] {}));
    }

    @Override
    public Instance sample(SplittableRandom rng) {
      return () -> new float[] {0f, 0f, 0f}; // the example's w = 0, b = 0; fixed data
    }

    @Override
    public ProblemGraph build(Ops tf, int unrollLength) {
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(LogisticRegression.POINTS, 2)));
      Placeholder<TFloat32> y = tf.withName("y").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(LogisticRegression.POINTS)));
      return new ProblemGraph() {
        @Override
        public Operand<TFloat32> loss(Ops tf, List<Operand<TFloat32>> params, int step) {
          return LogisticRegression.loss(tf, x, y, params.get(0), params.get(1));
        }

        @Override
        public void feed(Session.Runner runner, Instance instance, int unrollIndex,
            List<Tensor> owned) {
          TFloat32 xt = Tensors.floats(data.x(), LogisticRegression.POINTS, 2);
          TFloat32 yt = Tensors.floats(data.y(), LogisticRegression.POINTS);
          owned.add(xt);
          owned.add(yt);
          runner.feed(x, xt).feed(y, yt);
        }
      };
    }
  }

  @Test
  @Tag("slow")
  void learnedOptimizerTrainsTheExampleAsTheProjectsEvaluationDoes() {
    LogisticRegression.Data data = LogisticRegression.data(LogisticRegression.DATA_SEED);
    int steps = LogisticRegression.STEPS;
    float[] example = LogisticRegression.train(trainedOptimizer(), data, steps);

    OptimizerFile.Loaded trained = OptimizerFile.read(trainedOptimizer());
    float[] project;
    try (Unroll u = new Unroll(new LogisticProblem(data),
        (CoordinatewiseLstm) trained.single().rule(),
        Unroll.Options.evaluation(Evaluator.unrollLengthFor(steps, 20), 0))) {
      u.setMetaParamValues(trained.values());
      project = Evaluator.run(u, 1, Seeds.Stream.TEST, 1, steps, null)[0];
    }

    double maxDiff = 0;
    double maxRel = 0;
    int identical = 0;
    for (int t = 0; t <= steps; t++) {
      double d = Math.abs(example[t] - project[t]);
      maxDiff = Math.max(maxDiff, d);
      maxRel = Math.max(maxRel, d / Math.abs(project[t]));
      identical += Float.floatToIntBits(example[t]) == Float.floatToIntBits(project[t]) ? 1 : 0;
    }
    System.out.printf(Locale.ROOT, "logistic regression, %d steps: LearnedOptimizer loss %.7f -> "
        + "%.7f; project evaluation %.7f -> %.7f; max |difference| %.3g (relative %.3g), "
        + "%d of %d losses bit-identical%n", steps, example[0], example[steps], project[0],
        project[steps], maxDiff, maxRel, identical, steps + 1);
    assertEquals((float) Math.log(2), example[0], 1e-6f, "w = 0, b = 0 gives loss log 2");
    assertTrue(example[steps] < 0.6 * example[0], "the loss falls: " + example[steps]);
    assertTrue(maxRel <= 1e-5, "LearnedOptimizer and the project's evaluation differ by "
        + maxRel + " (relative)");
  }
}
