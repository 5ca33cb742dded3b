package org.l2l.meta;

import java.util.List;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Groups the nodes of an {@link Unroll}'s graph into the parts of the paper's Figure 2 (optimizee
 * f, its gradient, the optimizer m, the update of theta, the meta-loss and the meta-optimizer), for
 * a picture of the graph's top-level structure. The unroll's name scopes are per step
 * ({@code step_t/f}, {@code step_t/m}, ...); the picture wants one box per part across steps.
 */
public final class Figure2 {

  /** The parts, in the order data flows through them; also the categories of the picture. */
  public static final List<String> PARTS = List.of("theta_h", "optimizee_f", "gradient",
      "optimizer_m", "update", "phi_lstm_weights", "meta_loss", "meta_optimizer", "carry_back");

  private Figure2() {}

  /** The part a node belongs to, or null for bookkeeping (reset, load) left out of the picture. */
  public static String part(String nodeName) {
    String[] s = nodeName.split("/");
    String top = s[0];
    if (top.startsWith("step_") && s.length > 1) {
      return switch (s[1]) {
        case "f" -> "optimizee_f";
        case "gradient" -> "gradient";
        case "m" -> "optimizer_m";
        case "update" -> "update";
        default -> "optimizee_f";
      };
    }
    if (top.startsWith("lstm_") || top.matches("(sgd|nag|rmsprop|adam)_.+")) { // --rules
      return "phi_lstm_weights";
    }
    return switch (top) {
      case "optimizee" -> "optimizee_f";
      case "lstm", "learning_rate" -> "phi_lstm_weights";
      case "carried" -> "theta_h";
      case "carry", "carry_after_meta_step" -> "carry_back";
      case "meta_loss" -> "meta_loss";
      case "meta_optimizer" -> "meta_optimizer";
      default -> null;
    };
  }

  /** The category of a part for colouring: optimizee, optimizer, meta-optimizer or state. */
  public static String category(String part) {
    return switch (part) {
      case "optimizee_f", "gradient" -> "optimizee";
      case "optimizer_m", "phi_lstm_weights", "update" -> "optimizer (LSTM)";
      case "meta_loss", "meta_optimizer" -> "meta-optimizer (Adam)";
      default -> "carried state (truncated BPTT)";
    };
  }

  /**
   * A copy of {@code graph} whose node names start with their part ("optimizer_m/step_3.m.h"),
   * without bookkeeping nodes, so that grouping by the first name component gives Figure 2.
   */
  public static GraphDef regroup(GraphDef graph) {
    java.util.Map<String, String> renamed = new java.util.HashMap<>();
    for (NodeDef node : graph.getNodeList()) {
      String part = part(node.getName());
      if (part != null) {
        renamed.put(node.getName(), part + "/" + node.getName().replace('/', '.'));
      }
    }
    GraphDef.Builder out = GraphDef.newBuilder();
    for (NodeDef node : graph.getNodeList()) {
      String name = renamed.get(node.getName());
      if (name == null) {
        continue;
      }
      NodeDef.Builder copy = NodeDef.newBuilder().setName(name).setOp(node.getOp());
      for (String input : node.getInputList()) {
        boolean control = input.startsWith("^");
        String bare = control ? input.substring(1) : input;
        int colon = bare.indexOf(':');
        String source = colon < 0 ? bare : bare.substring(0, colon);
        String target = renamed.get(source);
        if (target != null) {
          copy.addInput((control ? "^" : "") + target + (colon < 0 ? "" : bare.substring(colon)));
        }
      }
      out.addNode(copy);
    }
    return out.build();
  }
}
