package org.l2l.io;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;

/**
 * A trained LSTM optimizer on disk: its weights phi in a {@link WeightsFile} whose metadata holds
 * the LSTM's configuration, so that the file alone is enough to run the optimizer.
 */
public final class OptimizerFile {

  /** File name of the optimizer inside a checkpoint folder. */
  public static final String FILE_NAME = "optimizer" + WeightsFile.EXTENSION;
  /** Sub-folder of a run holding the best-by-evaluation optimizer. */
  public static final String BEST = "best";
  /** Sub-folder of a run holding the latest optimizer. */
  public static final String LATEST = "latest";

  /** A loaded optimizer: its configuration, weights (in the LSTM's order) and metadata. */
  public record Loaded(CoordinatewiseLstm.Config config, List<float[]> values,
      JsonObject metadata) {}

  private OptimizerFile() {}

  /** Writes {@code values} of {@code lstm}'s parameters, plus {@code extra} metadata. */
  public static void write(Path file, CoordinatewiseLstm lstm, List<float[]> values,
      JsonObject extra) throws IOException {
    List<String> names = lstm.paramNames();
    List<long[]> shapes = lstm.paramShapes();
    List<WeightsFile.NamedTensor> tensors = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      tensors.add(new WeightsFile.NamedTensor(names.get(i), shapes.get(i), values.get(i)));
    }
    JsonObject meta = extra == null ? new JsonObject() : extra.deepCopy();
    meta.addProperty("optimizer", "coordinatewise-lstm");
    meta.add("lstm", configJson(lstm.config()));
    WeightsFile.write(file, tensors, meta);
  }

  /** The JSON form of an LSTM configuration (as in config.json). */
  public static JsonObject configJson(CoordinatewiseLstm.Config c) {
    JsonObject o = new JsonObject();
    o.addProperty("layers", c.layers());
    o.addProperty("hidden_size", c.hiddenSize());
    o.addProperty("forget_bias", c.forgetBias());
    o.addProperty("output_scale", c.outputScale());
    o.addProperty("preprocess", c.preprocessing().flag());
    o.addProperty("preprocess_p", c.preprocessP());
    return o;
  }

  /** Reads an LSTM configuration written by {@link #configJson}. */
  public static CoordinatewiseLstm.Config config(JsonObject o, Object source) {
    try {
      Preprocessing p = Preprocessing.fromFlag(o.get("preprocess").getAsString());
      if (p == null) {
        throw FormatException.of(source, "unknown preprocessing " + o.get("preprocess"));
      }
      return new CoordinatewiseLstm.Config(o.get("layers").getAsInt(),
          o.get("hidden_size").getAsInt(), o.get("forget_bias").getAsDouble(),
          o.get("output_scale").getAsDouble(), p, o.get("preprocess_p").getAsDouble());
    } catch (RuntimeException e) {
      if (e instanceof FormatException f) {
        throw f;
      }
      throw FormatException.of(source, "the LSTM configuration is incomplete or invalid ("
          + e.getMessage() + ")");
    }
  }

  /** Reads an optimizer file and checks that its tensors fit its configuration. */
  public static Loaded read(Path file) {
    WeightsFile.Weights w = WeightsFile.read(file);
    if (w.metadata() == null || !w.metadata().has("lstm")) {
      throw FormatException.of(file, "not an LSTM optimizer (no \"lstm\" configuration)");
    }
    CoordinatewiseLstm.Config config = config(w.metadata().getAsJsonObject("lstm"), file);
    CoordinatewiseLstm lstm = new CoordinatewiseLstm(config);
    List<float[]> values = new ArrayList<>();
    List<long[]> shapes = lstm.paramShapes();
    List<String> names = lstm.paramNames();
    for (int i = 0; i < names.size(); i++) {
      WeightsFile.NamedTensor t;
      try {
        t = w.tensor(names.get(i));
      } catch (FormatException e) {
        throw FormatException.of(file, e.getMessage());
      }
      if (!Arrays.equals(t.shape(), shapes.get(i))) {
        throw FormatException.of(file, "tensor " + names.get(i) + " has shape "
            + Arrays.toString(t.shape()) + ", the configuration needs "
            + Arrays.toString(shapes.get(i)));
      }
      values.add(t.values());
    }
    return new Loaded(config, values, w.metadata());
  }

  /**
   * The optimizer file that {@code path} names: the file itself, or in a run folder the best
   * optimizer (the latest if no evaluation has been saved yet).
   */
  public static Path resolve(Path path) {
    if (Files.isRegularFile(path)) {
      return path;
    }
    if (!Files.isDirectory(path)) {
      throw FormatException.of(path, "no such file or folder");
    }
    for (String sub : List.of(BEST, LATEST)) {
      Path candidate = path.resolve(sub).resolve(FILE_NAME);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    Path direct = path.resolve(FILE_NAME);
    if (Files.isRegularFile(direct)) {
      return direct;
    }
    throw FormatException.of(path, "holds no trained optimizer (looked for " + BEST + "/"
        + FILE_NAME + ", " + LATEST + "/" + FILE_NAME + " and " + FILE_NAME + ")");
  }
}
