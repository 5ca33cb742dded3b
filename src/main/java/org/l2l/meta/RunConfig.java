package org.l2l.meta;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.l2l.config.Flag;
import org.l2l.config.Json;
import org.l2l.io.AtomicFiles;
import org.l2l.io.FormatException;
import org.l2l.problem.ProblemType;
import org.l2l.problem.Problems;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.RuleMap;

/**
 * Everything that defines a meta-training run, as one validated record tree; config.json is its
 * JSON ({@link #toJson()}, format {@value #FORMAT}):
 *
 * <pre>
 * {"format": 2, "run": "q",
 *  "problem": {"name": "quadratic", "batch_size": 1, "dims": 10, "distribution": "gaussian"},
 *  "lstm": {"layers": 2, "hidden_size": 20, ...},
 *  "rules": {},
 *  "training": {"epochs": 2000, "num_steps": 100, ...},
 *  "init_from": {...}}      (only for runs started with --init-from)
 * </pre>
 *
 * Files of format 1 (no "format" key: camelCase problem options of every problem side by side,
 * training settings at the top level) are read too.
 *
 * @param run the run's name (its folder)
 * @param problem the problem and its options
 * @param lstm the settings of every learned rule
 * @param rules which rule updates which parameter group
 * @param training the meta-training settings
 * @param initFrom where the starting weights came from (null: random)
 */
public record RunConfig(String run, ProblemConfig problem, CoordinatewiseLstm.Config lstm,
    RuleMap rules, TrainConfig training, JsonObject initFrom) {

  /** The format written. */
  public static final int FORMAT = 2;

  /** The JSON form (config.json). */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("format", FORMAT);
    o.addProperty("run", run);
    o.add("problem", problem.toJson());
    o.add("lstm", Json.tree(lstm));
    JsonObject r = new JsonObject();
    rules.assignments().forEach(r::addProperty);
    o.add("rules", r);
    o.add("training", Json.tree(training));
    if (initFrom != null) {
      o.add("init_from", initFrom);
    }
    return o;
  }

  /**
   * What a checkpoint must match to continue this run: {@link #toJson()} without what may change
   * on resume (the run's name, settings whose {@link Flag#identity()} is false, and whether Adam's
   * state was carried over by --init-from, which is known only after the graph is built).
   */
  public JsonObject identity() {
    JsonObject o = toJson();
    o.remove("run");
    strip(o.getAsJsonObject("problem"), problem.type().configType());
    strip(o.getAsJsonObject("training"), TrainConfig.class);
    if (o.has("init_from")) {
      o.getAsJsonObject("init_from").remove("adam");
      o.getAsJsonObject("init_from").remove("adam_step");
    }
    return o;
  }

  private static void strip(JsonObject o, Class<? extends Record> type) {
    for (RecordComponent c : type.getRecordComponents()) {
      Flag f = c.getAnnotation(Flag.class);
      if (f != null && !f.identity()) {
        o.remove(Json.key(c.getName()));
      }
    }
  }

  /**
   * The identity a checkpoint's state.json recorded, in the current form: identities of format 1
   * are converted, so runs written before format 2 still resume.
   */
  public static JsonObject identityOf(JsonObject saved, Object source) {
    return saved.has("format") ? withMetaOptimizer(saved) : fromJson(saved, source).identity();
  }

  /**
   * {@code o} (a config or identity of format 2) with training.meta_optimizer "adam" added where
   * it is missing: files written before {@code --meta-optimizer} were all meta-trained by Adam.
   */
  private static JsonObject withMetaOptimizer(JsonObject o) {
    if (!o.has("training") || !o.get("training").isJsonObject()
        || o.getAsJsonObject("training").has("meta_optimizer")) {
      return o;
    }
    JsonObject copy = o.deepCopy();
    JsonObject old = copy.getAsJsonObject("training");
    JsonObject training = new JsonObject();
    for (Map.Entry<String, JsonElement> e : old.entrySet()) {
      training.add(e.getKey(), e.getValue());
      if (e.getKey().equals("meta_learning_rate")) {
        training.addProperty("meta_optimizer", MetaOptimizer.DEFAULT);
      }
    }
    if (!training.has("meta_optimizer")) {
      training.addProperty("meta_optimizer", MetaOptimizer.DEFAULT);
    }
    copy.add("training", training);
    return copy;
  }

  /** Reads config.json; a missing, unreadable or invalid file is a {@link FormatException}. */
  public static RunConfig read(Path file) {
    JsonObject o;
    try {
      o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    } catch (IOException | RuntimeException e) {
      throw FormatException.of(file, "unreadable (" + e.getMessage() + ")");
    }
    return fromJson(o, file);
  }

  /** Writes config.json atomically. */
  public void write(Path file) throws IOException {
    AtomicFiles.writeString(file, Json.text(toJson()));
  }

  /** Reads either format; errors are {@link FormatException}s naming {@code source}. */
  public static RunConfig fromJson(JsonObject json, Object source) {
    try {
      JsonObject o = json.has("format") ? withMetaOptimizer(json) : json;
      if (!o.has("format")) {
        return fromFormat1(o);
      }
      int format = o.get("format").getAsInt();
      if (format != FORMAT) {
        throw new FormatException(source + ": config format " + format + " (this build reads 1 "
            + "and " + FORMAT + ")");
      }
      Map<String, String> rules = new LinkedHashMap<>();
      o.getAsJsonObject("rules").entrySet().forEach(e -> rules.put(e.getKey(),
          e.getValue().getAsString()));
      return new RunConfig(o.get("run").getAsString(),
          ProblemConfig.fromJson(o.getAsJsonObject("problem")),
          Json.record(o.getAsJsonObject("lstm"), CoordinatewiseLstm.Config.class),
          new RuleMap(rules), Json.record(o.getAsJsonObject("training"), TrainConfig.class),
          o.has("init_from") ? o.getAsJsonObject("init_from") : null);
    } catch (FormatException e) {
      throw e;
    } catch (RuntimeException e) {
      throw FormatException.of(source, "incomplete or invalid (" + e.getMessage() + ")");
    }
  }

  /** Keys of format 1's top level that are training settings, by their format-2 key. */
  private static final List<String> TRAINING_KEYS = List.of("epochs", "num_steps",
      "unroll_length", "meta_learning_rate", "meta_optimizer", "clip_norm", "second_derivatives",
      "include_initial_loss", "meta_loss", "eval_every", "eval_instances", "checkpoint_every",
      "seed", "threads", "max_bad_steps", "lstm_kernel");

  /**
   * Format 1: the problem's options among those of every problem, camelCase; training settings
   * at the top level; meta_loss, lstm_kernel and epochs absent in older files (sum, stock, and
   * the defaults; a checkpoint's identity also lacks run and dataDir).
   */
  private static RunConfig fromFormat1(JsonObject o) {
    JsonObject old = o.getAsJsonObject("problem");
    ProblemType<?> type = Problems.byName(old.get("name").getAsString());
    JsonObject defaults = Json.tree(type.defaults());
    JsonObject options = new JsonObject();
    for (RecordComponent c : type.configType().getRecordComponents()) {
      String key = Json.key(c.getName());
      JsonElement v = old.has(c.getName()) ? old.get(c.getName()) : defaults.get(key);
      options.add(key, v);
    }
    JsonObject trainingDefaults = Json.tree(TrainConfig.DEFAULTS);
    JsonObject training = new JsonObject();
    for (String key : TRAINING_KEYS) {
      training.add(key, o.has(key) ? o.get(key) : trainingDefaults.get(key));
    }
    if (!o.has("lstm_kernel")) {
      training.addProperty("lstm_kernel", "stock"); // runs from before the flag used stock ops
    }
    return new RunConfig(o.has("run") ? o.get("run").getAsString() : "-",
        new ProblemConfig(type, Json.record(options, type.configType())),
        Json.record(o.getAsJsonObject("lstm"), CoordinatewiseLstm.Config.class), RuleMap.DEFAULT,
        Json.record(training, TrainConfig.class),
        o.has("init_from") ? o.getAsJsonObject("init_from") : null);
  }

  /** The same run with other training settings. */
  public RunConfig withTraining(TrainConfig t) {
    return new RunConfig(run, problem, lstm, rules, t, initFrom);
  }

  /** The same run with another init_from record. */
  public RunConfig withInitFrom(JsonObject record) {
    return new RunConfig(run, problem, lstm, rules, training, record);
  }
}
