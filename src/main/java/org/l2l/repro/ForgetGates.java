package org.l2l.repro;

import com.google.gson.JsonObject;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.Seeds;
import org.l2l.problem.Problem;
import org.l2l.problem.QuadraticProblem;

/**
 * The forget gates of a trained coordinatewise LSTM while it optimizes test quadratics: the LSTM
 * run forward in plain Java (double precision) from its weights, on the evaluation's own test
 * instances (same seed and stream), recording sigmoid(z_f + forget bias) of every unit, every
 * coordinate and every step. Only for the quadratics without preprocessing (the quadratic's
 * default), where the gradient is 2 W^T (W theta - y) in closed form.
 */
public final class ForgetGates {

  private ForgetGates() {}

  /**
   * Mean forget-gate activation per layer over {@code instances} test instances of seed
   * {@code seed}, {@code steps} steps each; also the loss after every step (for checks), as
   * {@code losses[instance][step]}.
   */
  public record Result(double[] meanPerLayer, double[][] losses) {}

  /** Whether {@link #run} applies to this rule and problem. */
  public static boolean applies(OptimizerFile.TrainedRule rule, Problem problem) {
    return problem instanceof QuadraticProblem
        && rule.config().get("preprocess").getAsString().equals("none");
  }

  public static Result run(OptimizerFile.TrainedRule rule, Problem problem, long seed,
      int instances, int steps) {
    JsonObject config = rule.config();
    int h = config.get("hidden_size").getAsInt();
    int layers = config.get("layers").getAsInt();
    double fb = config.get("forget_bias").getAsDouble();
    double scale = config.get("output_scale").getAsDouble();
    double[] sums = new double[layers];
    long count = 0;
    double[][] losses = new double[instances][steps + 1];
    for (int inst = 0; inst < instances; inst++) {
      QuadraticProblem.QuadraticInstance q = (QuadraticProblem.QuadraticInstance)
          problem.sample(Seeds.random(seed, Seeds.Stream.TEST, inst));
      int n = q.initialTheta().length;
      int dims = dims(q);
      int batch = n / dims;
      float[] theta = q.initialTheta().clone();
      double[][][] c = new double[layers][n][h];
      double[][][] hs = new double[layers][n][h];
      losses[inst][0] = QuadraticProblem.referenceLoss(q, theta, batch, dims);
      for (int t = 1; t <= steps; t++) {
        double[] grad = QuadraticProblem.referenceGradient(q, theta, batch, dims);
        for (int k = 0; k < n; k++) {
          double[] x = {grad[k]};
          for (int l = 0; l < layers; l++) {
            float[] kernel = rule.values().get(2 * l);
            float[] bias = rule.values().get(2 * l + 1);
            double[] z = new double[4 * h];
            for (int col = 0; col < 4 * h; col++) {
              double s = bias[col];
              for (int r = 0; r < x.length; r++) {
                s += x[r] * kernel[r * 4 * h + col];
              }
              for (int r = 0; r < h; r++) {
                s += hs[l][k][r] * kernel[(x.length + r) * 4 * h + col];
              }
              z[col] = s;
            }
            double[] hNew = new double[h];
            for (int j = 0; j < h; j++) {
              double i = sigmoid(z[j]);
              double f = sigmoid(z[h + j] + fb);
              double o = sigmoid(z[2 * h + j]);
              double g = Math.tanh(z[3 * h + j]);
              c[l][k][j] = f * c[l][k][j] + i * g;
              hNew[j] = o * Math.tanh(c[l][k][j]);
              sums[l] += f;
            }
            hs[l][k] = hNew;
            x = hNew;
          }
          float[] outKernel = rule.values().get(2 * layers);
          double y = rule.values().get(2 * layers + 1)[0];
          for (int j = 0; j < h; j++) {
            y += x[j] * outKernel[j];
          }
          theta[k] = (float) (theta[k] + y * scale);
        }
        count += (long) n * h;
        losses[inst][t] = QuadraticProblem.referenceLoss(q, theta, batch, dims);
      }
    }
    double[] means = new double[layers];
    for (int l = 0; l < layers; l++) {
      means[l] = sums[l] / count;
    }
    return new Result(means, losses);
  }

  private static int dims(QuadraticProblem.QuadraticInstance q) {
    // W is [batch, dims, dims] and y [batch, dims]: dims = |W| / |y|.
    return q.w().length / q.y().length;
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }
}
