package org.tensorflow;

import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.internal.c_api.global.tensorflow;
import org.tensorflow.proto.ConfigProto;

/**
 * The one workaround for a gap in TensorFlow Java 1.1.0: its public {@link Session} constructors
 * pass no target, so a session cannot run on a gRPC server ({@code grpc://host:port}), the way
 * into TensorFlow's distributed runtime. This class lives in package {@code org.tensorflow} to
 * reach two package-private members, {@code Graph.ref()} (the native graph) and the constructor
 * {@code Session(Graph, TF_Session)} that {@code SavedModelBundle} uses; it sets the target
 * through the public C API bindings ({@code TF_SetTarget}, {@code TF_SetConfig}).
 *
 * <p>It works only on the class path (a split package is refused on the module path), which is
 * how {@code ./l2l} and the tests run. The session it returns is an ordinary {@link Session}
 * (runners, feeds, fetches), except that it runs no variable initialisers by itself: give it
 * graphs without variables, or initialise them explicitly. Nothing else in the project touches
 * TensorFlow's internals.
 */
public final class TargetedSession {

  private TargetedSession() {}

  /**
   * A session on {@code graph} that runs it on the TensorFlow server at {@code target} (for
   * instance {@code grpc://localhost:2222}), with session options {@code config}.
   *
   * @throws org.tensorflow.exceptions.TensorFlowException if TensorFlow refuses the options or
   *     cannot create the session
   */
  public static Session open(Graph graph, String target, ConfigProto config) {
    TF_SessionOptions options = TF_SessionOptions.newSessionOptions();
    TF_Status status = TF_Status.newStatus();
    try (Graph.Reference ref = graph.ref()) {
      tensorflow.TF_SetTarget(options, target);
      byte[] bytes = config.toByteArray();
      try (BytePointer buffer = new BytePointer(bytes)) {
        tensorflow.TF_SetConfig(options, buffer, bytes.length, status);
        status.throwExceptionIfNotOK();
      }
      TF_Session session = TF_Session.newSession(ref.nativeHandle(), options, status);
      status.throwExceptionIfNotOK();
      return new Session(graph, session);
    } finally {
      status.delete();
      options.close();
    }
  }
}
