package org.l2l.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.FormatException;
import org.l2l.problem.Instance;
import org.l2l.problem.Problem;
import org.l2l.problem.QuadraticProblem;
import org.l2l.rule.RuleMap;

/**
 * Meta-steps averaged over several instances: the two-half meta-step (gradients, then
 * applyMetaGradient) against the fused one, the carried state parked and restored, and
 * --instances-per-step 2 against a hand-made average.
 */
class ParallelTest {

  private static final Problem QUADRATIC =
      new QuadraticProblem(1, 5, QuadraticProblem.Distribution.GAUSSIAN, 0.01);

  private static Unroll unroll() {
    return new Unroll(QUADRATIC, RuleMap.all(QUADRATIC.params(), UnrollTest.smallLstm()),
        new Unroll.Options(5, false, false, 0.01, 0, 3, 1));
  }

  private static void assertSameBits(List<float[]> a, List<float[]> b, String what) {
    assertEquals(a.size(), b.size(), what);
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i), b.get(i), 0f, what + " " + i);
      for (int j = 0; j < a.get(i).length; j++) {
        assertEquals(Float.floatToRawIntBits(a.get(i)[j]), Float.floatToRawIntBits(b.get(i)[j]),
            what + " " + i + "[" + j + "]");
      }
    }
  }

  @Test
  void twoHalvesRepeatTheFusedMetaStepBitForBit() {
    Instance inst = QUADRATIC.sample(new SplittableRandom(11));
    try (Unroll fused = unroll(); Unroll split = unroll()) {
      fused.reset(inst);
      split.reset(inst);
      for (int k = 0; k < 3; k++) {
        Unroll.Result f = fused.train(inst, k);
        Unroll.Gradients g = split.gradients(inst, k);
        assertArrayEquals(f.losses(), g.result().losses(), 0f, "losses of unroll " + k);
        assertEquals(f.metaLoss(), g.result().metaLoss(), 0f);
        Unroll.Result s = split.applyMetaGradient(g.metaGradient(), g.result().metaLoss());
        assertEquals(f.metaGradientNorm(), s.metaGradientNorm(), 0f, "norm of unroll " + k);
        assertEquals(false, s.skipped());
      }
      assertSameBits(fused.metaParamValues(), split.metaParamValues(), "phi");
      assertSameBits(fused.metaOptimizerValues(), split.metaOptimizerValues(), "Adam slots");
      assertArrayEquals(fused.theta(), split.theta(), 0f, "carried theta");
      // The step counter is the last slot: three meta-steps.
      List<float[]> slots = split.metaOptimizerValues();
      assertEquals(3f, slots.get(slots.size() - 1)[0]);
    }
  }

  @Test
  void aNonFiniteAveragedMetaLossSkipsTheStep() {
    Instance inst = QUADRATIC.sample(new SplittableRandom(12));
    try (Unroll u = unroll()) {
      u.reset(inst);
      List<float[]> before = u.metaParamValues();
      Unroll.Gradients g = u.gradients(inst, 0);
      Unroll.Result r = u.applyMetaGradient(g.metaGradient(), Float.NaN);
      assertTrue(r.skipped());
      assertSameBits(before, u.metaParamValues(), "phi after a skipped step");
      List<float[]> slots = u.metaOptimizerValues();
      assertEquals(0f, slots.get(slots.size() - 1)[0], "step counter");
    }
  }

  @Test
  void parkedStateComesBackExactly() {
    Instance a = QUADRATIC.sample(new SplittableRandom(13));
    Instance b = QUADRATIC.sample(new SplittableRandom(14));
    try (Unroll u = unroll()) {
      u.reset(a);
      u.gradients(a, 0);
      List<float[]> parkedA = u.carriedValues();
      // theta (5) and the LSTM state: 2 layers x (c, h).
      assertEquals(1 + 4, parkedA.size());
      assertEquals(5, parkedA.get(0).length);
      u.reset(b);
      u.gradients(b, 0);
      assertNotEquals(parkedA.get(0)[0], u.carriedValues().get(0)[0]);
      u.setCarriedValues(parkedA);
      assertSameBits(parkedA, u.carriedValues(), "carried values");
    }
  }

  @Test
  @Tag("slow")
  void twoInstancesPerStepAverageTheirMetaGradients() {
    int epochs = 1;
    MetaTrainer.Settings settings = new MetaTrainer.Settings(epochs, 10, 5, 100, 1, 3,
        new Unroll.Options(5, false, false, 0.01, 0, 3, 1), 3);
    List<float[]> applied = new ArrayList<>();
    List<float[]> expected = new ArrayList<>();
    try (Unroll trained = unroll(); Unroll a = unroll(); Unroll b = unroll()) {
      MetaTrainer.train(trained, settings, new Parallel(2, 0, 1, Parallel.Exchange.LOCAL,
          applied::add), 1, Double.POSITIVE_INFINITY, new MetaTrainer.Listener() {
            @Override
            public void epochDone(EpochStats stats, Unroll unroll) {}
          });
      // By hand: instance 0 is the single-process instance of epoch 1, instance 1 the next.
      Instance i0 = QUADRATIC.sample(Parallel.instanceRandom(3, 1, 0));
      Instance i1 = QUADRATIC.sample(Parallel.instanceRandom(3, 1, 1));
      a.reset(i0);
      b.reset(i1);
      for (int k = 0; k < 2; k++) {
        Unroll.Gradients g0 = a.gradients(i0, k);
        Unroll.Gradients g1 = b.gradients(i1, k);
        List<float[]> mean = new ArrayList<>();
        for (int p = 0; p < g0.metaGradient().size(); p++) {
          float[] m = new float[g0.metaGradient().get(p).length];
          for (int j = 0; j < m.length; j++) {
            m[j] = (g0.metaGradient().get(p)[j] + g1.metaGradient().get(p)[j]) / 2;
          }
          mean.add(m);
        }
        float metaLoss = (g0.result().metaLoss() + g1.result().metaLoss()) / 2;
        a.applyMetaGradient(mean, metaLoss);
        b.applyMetaGradient(mean, metaLoss);
        float[] flat = new float[applied.get(k).length];
        int at = 0;
        for (float[] m : mean) {
          System.arraycopy(m, 0, flat, at, m.length);
          at += m.length;
        }
        flat[at] = metaLoss;
        flat[at + 1] = (g0.result().finalLoss() + g1.result().finalLoss()) / 2;
        expected.add(flat);
      }
      assertEquals(2, applied.size(), "one meta-gradient per unroll");
      for (int k = 0; k < 2; k++) {
        assertArrayEquals(expected.get(k), applied.get(k), 0f, "meta-step " + k);
      }
      assertSameBits(a.metaParamValues(), trained.metaParamValues(), "phi");
    }
  }

  @Test
  void configJsonRecordsTheParallelSettingsOnlyWhenThereAreSeveral(@TempDir Path dir)
      throws IOException {
    RunConfig config = RunConfig.read(Path.of("checkpoints/pretrained/quadratic/config.json"));
    Path one = dir.resolve("one.json");
    Parallel.writeConfig(config, 1, 1, one);
    assertEquals(org.l2l.config.Json.text(config.toJson()), Files.readString(one),
        "one instance per meta-step: config.json as it always was");
    assertEquals(1, Parallel.recordedInstancesPerStep(one));
    Path three = dir.resolve("three.json");
    Parallel.writeConfig(config, 3, 2, three);
    assertTrue(Files.readString(three).contains(
        "\"parallel\": {\n    \"instances_per_step\": 3,\n    \"workers\": 2\n  }"));
    assertEquals(3, Parallel.recordedInstancesPerStep(three));
    assertEquals(config, RunConfig.read(three), "the run's settings read as before");
    Path bad = Files.writeString(dir.resolve("bad.json"), Files.readString(three)
        .replace("\"instances_per_step\": 3", "\"instances_per_step\": 0"));
    FormatException e = assertThrows(FormatException.class,
        () -> Parallel.recordedInstancesPerStep(bad));
    assertTrue(e.getMessage().startsWith(bad + ": unreadable \"parallel\""), e.getMessage());
  }

  @Test
  void instanceZeroIsTheSingleProcessInstance() {
    SplittableRandom single = Seeds.random(9, Seeds.Stream.TRAIN, 4);
    SplittableRandom zero = Parallel.instanceRandom(9, 4, 0);
    assertEquals(single.nextLong(), zero.nextLong());
    long one = Parallel.instanceRandom(9, 4, 1).nextLong();
    long otherEpoch = Parallel.instanceRandom(9, 5, 1).nextLong();
    assertNotEquals(Seeds.random(9, Seeds.Stream.TRAIN, 4).nextLong(), one);
    assertNotEquals(one, otherEpoch);
  }
}
