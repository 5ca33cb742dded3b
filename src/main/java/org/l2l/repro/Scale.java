package org.l2l.repro;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.l2l.UserError;

/**
 * The sizes of one {@code reproduce --scale}: horizons, instances, seeds, training budgets.
 *
 * @param name quick, paper, or tiny (hidden: for tests)
 * @param horizon the paper's horizon of 100 steps (smaller only at tiny)
 * @param seeds the test seeds; the first also tunes the baselines
 * @param quadEpochs meta-training epochs of the quadratic experiment
 * @param quadInstances test instances per seed on the quadratics
 * @param quadTuning tuning instances on the quadratics
 * @param mnistEpochs meta-training epochs on MNIST (the paper's settings); 0: the shipped
 *     pretrained optimizers
 * @param mnistInstances MNIST test instances per seed
 * @param mnistTuning MNIST tuning instances
 * @param mnistFineTuned whether the MNIST comparison shows the shipped fine-tuned optimizer too
     (the horizon study always does)
 * @param convEpochs meta-training epochs of the conv experiment; 0: the shipped optimizer
 * @param convInstances conv test instances per seed
 * @param convTuning conv tuning instances; 0: the learning rates tuned in docs/experiments.md
 * @param studyEpochs meta-training epochs of each quadratic study run
 * @param studyMnistEpochs meta-training epochs of each MNIST study run; 0: quadratics only
 * @param metaRates the learning-rate grid of each meta-optimizer in the meta-optimizer study
 * @param horizonInstances test instances per seed of the horizon study
 * @param horizonTuning its tuning instances
 */
public record Scale(String name, int horizon, List<Long> seeds, int quadEpochs,
    int quadInstances, int quadTuning, int mnistEpochs, int mnistInstances, int mnistTuning,
    boolean mnistFineTuned, int convEpochs,
    int convInstances, int convTuning, int studyEpochs, int studyMnistEpochs,
    Map<String, List<Double>> metaRates, int horizonInstances, int horizonTuning) {

  /** The scales a user may choose. */
  public static final List<String> NAMES = List.of("quick", "paper");

  private static Map<String, List<Double>> rates(List<Double> adam, List<Double> sgd,
      List<Double> rmsprop, List<Double> nag) {
    Map<String, List<Double>> m = new LinkedHashMap<>();
    m.put("adam", adam);
    m.put("sgd", sgd);
    m.put("rmsprop", rmsprop);
    m.put("nag", nag);
    return m;
  }

  /** The scale {@code name}; tiny is accepted but not advertised. */
  public static Scale of(String name) {
    return switch (name) {
      case "quick" -> new Scale("quick", 100, List.of(7L, 8L, 9L), 2000, 100, 100, 0, 10, 2,
          false, 0, 2, 0, 400, 0, rates(List.of(1e-3, 1e-2), List.of(1e-5, 1e-4), List.of(1e-4, 1e-3),
              List.of(1e-5, 1e-4)), 4, 2);
      case "paper" -> new Scale("paper", 100, List.of(7L, 8L, 9L), 10000, 100, 100, 800, 100, 20,
          true, 100, 20, 3, 2000, 300, rates(List.of(3e-4, 1e-3, 3e-3), List.of(1e-6, 1e-5, 1e-4),
              List.of(1e-4, 3e-4, 1e-3), List.of(1e-6, 1e-5, 1e-4)), 100, 20);
      case "tiny" -> new Scale("tiny", 10, List.of(7L, 8L), 3, 3, 3, 0, 2, 1, true, 0, 1, 0, 3, 0,
          rates(List.of(1e-3), List.of(1e-5), List.of(1e-4), List.of(1e-5)), 1, 1);
      default -> throw UserError.flag("--scale", name, "unknown; allowed: "
          + String.join(", ", NAMES));
    };
  }
}
