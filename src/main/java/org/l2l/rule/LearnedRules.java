package org.l2l.rule;

import com.google.gson.JsonObject;
import java.util.List;
import org.l2l.config.Json;
import org.l2l.UserError;

/** The kinds of learned rule, by the {@link LearnedRule#type()} written in weights files. */
public final class LearnedRules {

  /** Every type this build can read. */
  public static final List<String> TYPES = List.of(CoordinatewiseLstm.TYPE);

  private LearnedRules() {}

  /**
   * The learned rule of {@code type} with settings {@code config} under {@code scope}; a type or
   * settings that do not fit are a {@link UserError} naming {@code source}.
   */
  public static LearnedRule create(String type, JsonObject config, String scope,
      CoordinatewiseLstm.Kernel kernel, Object source) {
    if (!TYPES.contains(type)) {
      throw new UserError(source + ": unknown learned rule type " + type + " (this build "
          + "knows " + String.join(", ", TYPES) + ")");
    }
    CoordinatewiseLstm.Config c;
    try {
      c = Json.record(config, CoordinatewiseLstm.Config.class);
    } catch (RuntimeException e) {
      throw new UserError(source + ": the LSTM configuration is incomplete or invalid ("
          + e.getMessage() + ")");
    }
    return new CoordinatewiseLstm(c, kernel, scope);
  }
}
