package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.l2l.cli.CliTest.assertUsageError;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.meta.RunConfig;

/**
 * {@code train --meta-optimizer}: recorded in config.json as part of the run's identity, older
 * files load as adam, checkpoints resume exactly, bad values are one line.
 */
class MetaOptimizerCliTest {

  @TempDir Path tmp;

  private List<String> args(String run, String... extra) {
    List<String> a = new ArrayList<>(List.of("train", "--epochs", "6", "--num-steps", "20",
        "--unroll-length", "10", "--eval-every", "3", "--eval-instances", "2",
        "--checkpoint-every", "2", "--hidden-size", "6", "--seed", "3", "--run", run,
        "--checkpoint-dir", tmp.resolve("ck").toString(), "--no-tensorboard"));
    a.addAll(List.of(extra));
    return a;
  }

  private static int run(List<String> args) {
    return CliTest.run(args.toArray(String[]::new)).code();
  }

  @Test
  void aBadValueIsOneLine() {
    assertUsageError("--meta-optimizer adagrad: unknown; allowed: adam, sgd, rmsprop, nag",
        args("bad", "--meta-optimizer", "adagrad").toArray(String[]::new));
    assertFalse(Files.exists(tmp.resolve("ck/bad")), "nothing written");
  }

  @Test
  @Tag("slow")
  void nagResumesExactlyAndIsPartOfTheIdentity() throws IOException {
    assertEquals(0, run(args("whole", "--meta-optimizer", "nag", "--meta-learning-rate",
        "0.0001")));
    assertEquals(0, run(args("split", "--meta-optimizer", "nag", "--meta-learning-rate", "0.0001",
        "--stop-after", "3")));
    Path whole = tmp.resolve("ck/whole");
    Path split = tmp.resolve("ck/split");
    JsonObject config = JsonParser.parseString(Files.readString(whole.resolve("config.json")))
        .getAsJsonObject();
    assertEquals("nag", config.getAsJsonObject("training").get("meta_optimizer").getAsString());
    // The checkpoint holds the momentum slots.
    assertTrue(Files.size(split.resolve("latest/ckpt.index")) > 0);
    // Another meta-optimizer cannot resume the run.
    CliTest.Outcome refused = CliTest.run("train", "--resume", split.toString(),
        "--meta-optimizer", "sgd", "--no-tensorboard");
    assertEquals(2, refused.code(), refused.err());
    assertTrue(refused.err().contains("training.meta_optimizer (run: \"nag\", given: \"sgd\")"),
        refused.err());
    assertEquals(0, CliTest.run("train", "--resume", split.toString(), "--no-tensorboard")
        .code());
    for (String f : List.of("metrics.csv", "latest/ckpt.data-00000-of-00001",
        "latest/optimizer.l2lw", "best/optimizer.l2lw")) {
      assertArrayEquals(Files.readAllBytes(whole.resolve(f)), Files.readAllBytes(split.resolve(f)),
          f);
    }
    // Adam on the same run computes something else.
    assertEquals(0, run(args("adam", "--meta-learning-rate", "0.0001")));
    assertNotEquals(Files.readString(whole.resolve("metrics.csv")),
        Files.readString(tmp.resolve("ck/adam/metrics.csv")));
  }

  @Test
  void aConfigWithoutTheKeyLoadsAsAdam() throws IOException {
    assertEquals("adam", RunConfig.read(Path.of("checkpoints/pretrained/mnist/config.json"))
        .training().metaOptimizer());
    // Format 2, written before --meta-optimizer: the key is absent.
    JsonObject o = new RunConfigFixture().format2WithoutMetaOptimizer();
    Path file = Files.writeString(tmp.resolve("config.json"), o.toString());
    RunConfig c = RunConfig.read(file);
    assertEquals("adam", c.training().metaOptimizer());
    assertEquals(c.identity(), RunConfig.identityOf(stripped(c.identity()), "state"),
        "an old checkpoint identity matches a new run's");
  }

  private static JsonObject stripped(JsonObject identity) {
    JsonObject o = identity.deepCopy();
    o.getAsJsonObject("training").remove("meta_optimizer");
    return o;
  }

  /** A format-2 config.json as written before --meta-optimizer existed. */
  private static final class RunConfigFixture {
    JsonObject format2WithoutMetaOptimizer() {
      RunConfig q = RunConfig.read(Path.of("checkpoints/pretrained/quadratic/config.json"));
      JsonObject o = q.toJson();
      o.getAsJsonObject("training").remove("meta_optimizer");
      assertFalse(o.toString().contains("meta_optimizer"));
      return o;
    }
  }
}
