package org.l2l.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.l2l.problem.Instance;
import org.l2l.problem.MnistProblem;
import org.l2l.problem.MnistProblemTest;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemType;
import org.l2l.problem.Problems;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;
import org.l2l.rule.RuleMap;
import org.l2l.rule.Rules;
import org.l2l.rule.UpdateRule;

/**
 * One smoke test over every registered problem and every rule (the learned one and each
 * baseline) at tiny size, and the parameter groups of {@code --rules} on the unroll.
 */
class ProblemsAndRulesTest {

  private static final CoordinatewiseLstm.Config TINY =
      new CoordinatewiseLstm.Config(1, 3, 1.0, 0.1, Preprocessing.LOG_AND_SIGN, 5);

  /** Every registered problem at a small size (MNIST on generated images). */
  static List<Problem> tinyProblems() {
    List<Problem> out = new ArrayList<>();
    for (ProblemType<?> t : Problems.ALL) {
      if (t == org.l2l.problem.ConvProblem.TYPE) {
        var data = org.l2l.problem.ConvProblemTest.images(20, 8, 8, 1, 3);
        out.add(new org.l2l.problem.ConvProblem(4, 8, 8, 1, () -> data));
      } else if (t == MnistProblem.TYPE) {
        var data = MnistProblemTest.tinyData(40, 12, 3);
        out.add(new MnistProblem(4, 1, MnistProblem.Activation.SIGMOID, 8, 12, () -> data));
      } else {
        out.add(t.create(t.defaults(), ProblemType.Context.QUIET));
      }
    }
    return out;
  }

  static List<UpdateRule> everyRule() {
    List<UpdateRule> rules = new ArrayList<>();
    rules.add(new CoordinatewiseLstm(TINY));
    for (String b : Rules.BASELINES) {
      rules.add(Rules.baseline(b, 0.01));
    }
    return rules;
  }

  @Test
  void everyProblemRunsWithEveryRule() {
    List<Problem> problems = tinyProblems();
    assertEquals(Problems.ALL.size(), problems.size());
    for (int i = 0; i < problems.size(); i++) {
      Problem p = problems.get(i);
      // The groups a problem declares for --rules are the groups of its parameters.
      assertEquals(Problems.ALL.get(i).groups(), RuleMap.groups(p.params()), p.name());
      for (UpdateRule rule : everyRule()) {
        String what = p.name() + " x " + rule.name();
        boolean learned = rule instanceof CoordinatewiseLstm;
        try (Unroll u = new Unroll(p, rule, learned
            ? new Unroll.Options(2, false, false, 0.001, 0, 1, 1)
            : Unroll.Options.evaluation(2, 1))) {
          float[][] losses = Evaluator.run(u, 1, Seeds.Stream.TEST, 2, 4, null);
          assertEquals(2, losses.length, what);
          assertEquals(5, losses[0].length, what);
          for (float[] l : losses) {
            for (float x : l) {
              assertTrue(Float.isFinite(x), what + ": " + x);
            }
          }
          assertNotEquals(losses[0][0], losses[0][4], what + ": the rule moved theta");
          assertEquals(p.numCoordinates(), u.theta().length, what);
          if (learned) {
            Instance inst = p.sample(Seeds.random(1, Seeds.Stream.TRAIN, 1));
            u.reset(inst);
            Unroll.Result r = u.train(inst, 0);
            assertTrue(r.metaGradientNorm() > 0 && Float.isFinite(r.metaGradientNorm()), what);
            assertTrue(!r.skipped(), what);
          }
        }
      }
    }
  }

  /** The tiny MNIST problem: groups weights and biases. */
  private static Problem mnist() {
    var data = MnistProblemTest.tinyData(40, 12, 3);
    return new MnistProblem(4, 1, MnistProblem.Activation.SIGMOID, 8, 12, () -> data);
  }

  private static List<RuleMap.Binding> bind(Problem p, String rules) {
    return RuleMap.parse(rules).bind(p.params(), scope -> new CoordinatewiseLstm(TINY,
        CoordinatewiseLstm.Kernel.STOCK, scope), "test");
  }

  @Test
  void twoLearnedRulesHaveTheirOwnWeightsAndScopes() {
    Problem p = mnist();
    List<RuleMap.Binding> bindings = bind(p, "weights=lstm,biases=lstm");
    assertEquals(List.of("lstm_weights", "lstm_biases"),
        bindings.stream().map(RuleMap.Binding::label).toList());
    assertEquals(List.of(0, 2), bindings.get(0).params());
    assertEquals(List.of(1, 3), bindings.get(1).params());
    try (Unroll u = new Unroll(p, bindings, new Unroll.Options(2, false, false, 0.01, 0, 1, 1))) {
      List<String> names = u.metaParamNames();
      assertEquals(8, names.size()); // 1 layer: kernel, bias, output kernel, output bias; twice
      assertTrue(names.get(0).startsWith("lstm_weights/"), names.toString());
      assertTrue(names.get(4).startsWith("lstm_biases/"), names.toString());
      // Separate initial weights: each learned rule has its own random stream.
      assertNotEquals(u.metaParamValues().get(0)[0], u.metaParamValues().get(4)[0]);
      Instance inst = p.sample(Seeds.random(1, Seeds.Stream.TRAIN, 1));
      u.reset(inst);
      float[] theta0 = u.theta();
      assertArrayEquals(inst.initialTheta(), theta0, "theta comes back in spec order");
      List<float[]> before = u.metaParamValues();
      u.train(inst, 0);
      List<float[]> after = u.metaParamValues();
      for (int i = 0; i < before.size(); i++) {
        assertNotEquals(before.get(i)[0], after.get(i)[0], "meta-step moved " + names.get(i));
      }
      assertEquals(2, u.probes(inst, 0).size());
    }
  }

  @Test
  void oneRuleForAllGroupsIsTheSingleRuleUnroll() {
    Problem p = mnist();
    Instance inst = p.sample(Seeds.random(1, Seeds.Stream.TRAIN, 1));
    float[] a;
    float[] b;
    try (Unroll u = new Unroll(p, new CoordinatewiseLstm(TINY),
        new Unroll.Options(2, false, false, 0.01, 0, 1, 1))) {
      u.reset(inst);
      a = u.train(inst, 0).losses();
      u.train(inst, 1);
      a = concat(a, u.metaParamValues().get(0));
    }
    try (Unroll u = new Unroll(p, bind(p, ""), new Unroll.Options(2, false, false, 0.01, 0, 1,
        1))) {
      u.reset(inst);
      b = u.train(inst, 0).losses();
      u.train(inst, 1);
      b = concat(b, u.metaParamValues().get(0));
    }
    assertArrayEquals(a, b, "the default --rules builds exactly the one-rule graph");
  }

  @Test
  void aHandDesignedRuleOnOneGroupIsNotTrained() {
    Problem p = mnist();
    List<RuleMap.Binding> bindings = bind(p, "biases=adam:0.1");
    assertEquals(2, bindings.size());
    assertEquals("lstm", bindings.get(0).label());
    assertEquals("adam_biases", bindings.get(1).label());
    try (Unroll u = new Unroll(p, bindings, new Unroll.Options(2, false, false, 0.01, 0, 1, 1))) {
      assertEquals(4, u.metaParamNames().size(), "only the LSTM's weights are meta-parameters");
      Instance inst = p.sample(Seeds.random(1, Seeds.Stream.TRAIN, 1));
      u.reset(inst);
      Unroll.Result r = u.train(inst, 0);
      assertTrue(Float.isFinite(r.metaLoss()));
    }
  }

  @Test
  void ruleMapsAreCheckedAgainstTheProblem() {
    Problem p = mnist();
    var e = org.junit.jupiter.api.Assertions.assertThrows(org.l2l.UserError.class,
        () -> bind(p, "conv=lstm"));
    assertEquals("--rules conv=lstm: no group conv in test (its groups: weights, biases)",
        e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(org.l2l.UserError.class,
        () -> RuleMap.parse("weights=adam"));
    assertEquals("--rules weights=adam: adam needs its learning rate, e.g. adam:0.1",
        e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(org.l2l.UserError.class,
        () -> RuleMap.parse("weights=lbfgs:1"));
    assertTrue(e.getMessage().startsWith("--rules weights=lbfgs:1: unknown rule lbfgs"),
        e.getMessage());
    assertEquals(Map.of("weights", "lstm:a", "biases", "lstm:a"),
        RuleMap.parse("weights=lstm:a,biases=lstm:a").assignments());
    assertEquals(1, bind(p, "weights=lstm:a,biases=lstm:a").size(), "a shared named rule");
  }

  private static float[] concat(float[] x, float[] y) {
    float[] z = java.util.Arrays.copyOf(x, x.length + y.length);
    System.arraycopy(y, 0, z, x.length, y.length);
    return z;
  }
}
