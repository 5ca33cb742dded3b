package org.l2l.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.FormatException;
import org.l2l.problem.MnistProblem;
import org.l2l.problem.QuadraticProblem;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.RuleMap;

/** config.json: both formats read, one written, identities compared with equals. */
class RunConfigTest {

  @TempDir Path tmp;

  @Test
  void thePretrainedConfigsOfFormatOneStillLoad() {
    RunConfig q = RunConfig.read(Path.of("checkpoints/pretrained/quadratic/config.json"));
    assertEquals("quadratic", q.problem().name());
    assertEquals(new QuadraticProblem.Config(1, 10, "gaussian"), q.problem().options());
    assertEquals(CoordinatewiseLstm.DEFAULTS, q.lstm());
    assertEquals(RuleMap.DEFAULT, q.rules());
    assertEquals(2000, q.training().epochs());
    assertEquals("sum", q.training().metaLoss(), "absent in old files: the paper's sum");
    assertEquals("stock", q.training().lstmKernel(), "absent in old files: stock ops");

    RunConfig m = RunConfig.read(Path.of("checkpoints/pretrained/mnist/config.json"));
    assertEquals(new MnistProblem.Config(128, 20, 1, "sigmoid", "data/mnist"),
        m.problem().options());
    assertEquals(0.1, m.lstm().outputScale());
    assertEquals("log-and-sign-paper", m.lstm().preprocess());
    assertEquals(200, m.training().numSteps());
    assertEquals(40, m.training().unrollLength());
    assertEquals("log", m.training().metaLoss());
    assertEquals("fused", m.training().lstmKernel());
    assertEquals(6000, m.initFrom().get("adam_step").getAsInt());
    assertTrue(RunConfig.read(Path.of("checkpoints/pretrained/mnist-paper/config.json"))
        .problem().name().equals("mnist"));
  }

  @Test
  void formatTwoHoldsOnlyTheChosenProblemsOptionsAndRoundTrips() throws IOException {
    RunConfig m = RunConfig.read(Path.of("checkpoints/pretrained/mnist/config.json"));
    Path file = tmp.resolve("config.json");
    m.write(file);
    JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    assertEquals(2, o.get("format").getAsInt());
    assertEquals(java.util.Set.of("name", "batch_size", "hidden_units", "hidden_layers",
        "activation", "data_dir"), o.getAsJsonObject("problem").keySet());
    assertFalse(Files.readString(file).matches("(?s).*[a-z][A-Z].*\"\\s*:.*"),
        "no camelCase keys");
    assertEquals(m, RunConfig.read(file));
  }

  @Test
  void identityLeavesOutWhatMayChangeOnResume() {
    RunConfig m = RunConfig.read(Path.of("checkpoints/pretrained/mnist/config.json"));
    JsonObject id = m.identity();
    assertFalse(id.has("run"));
    assertFalse(id.getAsJsonObject("problem").has("data_dir"));
    assertFalse(id.getAsJsonObject("training").has("epochs"));
    assertFalse(id.getAsJsonObject("training").has("max_bad_steps"));
    assertFalse(id.getAsJsonObject("init_from").has("adam_step"));
    RunConfig longer = m.withTraining(m.training().withEpochs(9999));
    assertEquals(id, longer.identity());
    RunConfig other = m.withTraining(m.training().withKernel("stock"));
    assertEquals("training.lstm_kernel (run: \"fused\", given: \"stock\")",
        Configs.differences(id, other.identity(), "run", "given"));
  }

  @Test
  void aFormatOneCheckpointIdentityIsConverted() {
    // What state.json of a format-1 run holds: config.json without run, epochs, dataDir.
    JsonObject old = JsonParser.parseString("""
        {"problem": {"name": "quadratic", "batchSize": 1, "dims": 10, "distribution": "gaussian",
          "coefficients": 7, "samples": 32, "noise": 0.1, "hiddenUnits": 20, "hiddenLayers": 1,
          "activation": "sigmoid"},
         "lstm": {"layers": 2, "hidden_size": 20, "forget_bias": 1.0, "output_scale": 1.0,
          "preprocess": "none", "preprocess_p": 10.0},
         "num_steps": 100, "unroll_length": 20, "meta_learning_rate": 0.001, "clip_norm": 0.0,
         "second_derivatives": false, "include_initial_loss": false, "eval_every": 100,
         "eval_instances": 50, "checkpoint_every": 100, "seed": 1, "threads": 0}
        """).getAsJsonObject();
    RunConfig now = RunConfig.read(Path.of("checkpoints/pretrained/quadratic/config.json"));
    assertEquals(now.identity(), RunConfig.identityOf(old, "state.json"));
  }

  @Test
  void invalidFilesAreOneLineErrors() throws IOException {
    Path file = tmp.resolve("config.json");
    Files.writeString(file, "{\"format\": 2, \"run\": \"x\"}");
    var e = assertThrows(FormatException.class, () -> RunConfig.read(file));
    assertTrue(e.getMessage().startsWith(file + ": incomplete or invalid"), e.getMessage());
    RunConfig q = RunConfig.read(Path.of("checkpoints/pretrained/quadratic/config.json"));
    JsonObject o = q.toJson();
    o.getAsJsonObject("problem").addProperty("dims", 0);
    Files.writeString(file, o.toString());
    e = assertThrows(FormatException.class, () -> RunConfig.read(file));
    assertTrue(e.getMessage().contains("--dims 0: must be a positive integer"), e.getMessage());
    o = q.toJson();
    o.getAsJsonObject("problem").addProperty("hidden_units", 3);
    Files.writeString(file, o.toString());
    e = assertThrows(FormatException.class, () -> RunConfig.read(file));
    assertTrue(e.getMessage().contains("unknown key \"hidden_units\""), e.getMessage());
    assertEquals(Map.of(), q.rules().assignments());
  }
}
