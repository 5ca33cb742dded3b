package org.l2l.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Crash-safe replacement of files and folders.
 *
 * <p>Training runs for hours and may be killed at any moment; a checkpoint or metrics file
 * that is half written would then poison the resume. Everything is therefore written to a
 * temporary sibling first, forced to disk, and renamed into place: a reader (or a restarted
 * run) sees either the complete old content or the complete new content, never a mix.
 *
 * <p>Temporary names look like {@code .<name>.<random>.tmp}: the leading dot hides them from
 * casual listings and the {@code .tmp} suffix makes them easy to ignore or clean up. They live
 * in the same folder as the target because a rename is only atomic within one file system.
 */
public final class AtomicFiles {

  /** Prefix of every temporary file or folder name (hidden on Unix). */
  public static final String TEMP_PREFIX = ".";

  /** Suffix of every temporary file or folder name. */
  public static final String TEMP_SUFFIX = ".tmp";

  /** Suffix of the sibling that holds the previous folder while {@link #replaceDirectory} swaps. */
  public static final String OLD_SUFFIX = ".old";

  /** Buffer for the stream handed to writers; large enough that tensors stream efficiently. */
  private static final int BUFFER_BYTES = 1 << 16;

  /** Attempts at picking an unused random temporary name before giving up. */
  private static final int MAX_NAME_ATTEMPTS = 100;

  private AtomicFiles() {}

  /**
   * Atomically replaces {@code file} with {@code content} encoded as UTF-8.
   *
   * @param file the file to create or replace; missing parent folders are created
   * @param content the new content
   * @throws IOException if writing or renaming fails (the old file is then left untouched)
   */
  public static void writeString(Path file, String content) throws IOException {
    writeBytes(file, content.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Atomically replaces {@code file} with {@code content}.
   *
   * @param file the file to create or replace; missing parent folders are created
   * @param content the new content
   * @throws IOException if writing or renaming fails (the old file is then left untouched)
   */
  public static void writeBytes(Path file, byte[] content) throws IOException {
    write(file, out -> out.write(content));
  }

  /**
   * Atomically replaces {@code file} with whatever {@code writer} writes to the stream it gets.
   *
   * <p>The stream is buffered; the writer need not (and should not) close it, but closing it
   * is harmless. If the writer throws, the temporary file is deleted and {@code file} is left
   * as it was.
   *
   * @param file the file to create or replace; missing parent folders are created
   * @param writer writes the new content
   * @throws IOException if the writer, the fsync or the rename fails
   */
  public static void write(Path file, IoConsumer<OutputStream> writer) throws IOException {
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    Files.createDirectories(dir);
    // A fresh name with CREATE_NEW rather than Files.createTempFile: the latter creates the
    // file with mode 0600, which the rename would then carry over to the final file.
    FileChannel channel = null;
    Path temp = null;
    for (int attempt = 0; channel == null; attempt++) {
      temp = tempSibling(target);
      try {
        channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      } catch (FileAlreadyExistsException e) {
        if (attempt >= MAX_NAME_ATTEMPTS) {
          throw e;
        }
      }
    }
    boolean moved = false;
    try {
      try (FileChannel ch = channel;
          OutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(ch), BUFFER_BYTES)) {
        writer.accept(new UnclosableOutputStream(buffered));
        buffered.flush();
        // Data must be on disk before the rename is, or a power cut could leave the new
        // name pointing at an empty file.
        ch.force(true);
      }
      moveAtomically(temp, target, true);
      moved = true;
      fsyncDirectory(dir);
    } finally {
      if (!moved) {
        Files.deleteIfExists(temp);
      }
    }
  }

  /**
   * Replaces the folder {@code target} with a new one filled by {@code filler}, such that at
   * every moment a complete folder exists either at {@code target} or at {@code target.old}.
   *
   * <p>Steps: fill {@code .<name>.<random>.tmp}, force its files to disk, rename {@code target}
   * to {@code <name>.old}, rename the new folder to {@code target}, delete {@code <name>.old}.
   * A crash between the two renames leaves only {@code <name>.old}, which {@link #recover}
   * puts back. Any leftover from an earlier crash is recovered before starting.
   *
   * @param target the folder to create or replace; missing parent folders are created
   * @param filler writes the new content into the (empty) folder it is given
   * @throws IOException if filling or renaming fails; the old folder is then still in place
   *     (or, if the failure hit between the two renames, restorable with {@link #recover})
   */
  public static void replaceDirectory(Path target, IoConsumer<Path> filler) throws IOException {
    Path dst = target.toAbsolutePath();
    Path parent = dst.getParent();
    Files.createDirectories(parent);
    recover(dst);

    Path temp = null;
    for (int attempt = 0; temp == null; attempt++) {
      Path candidate = tempSibling(dst);
      try {
        Files.createDirectory(candidate);
        temp = candidate;
      } catch (FileAlreadyExistsException e) {
        if (attempt >= MAX_NAME_ATTEMPTS) {
          throw e;
        }
      }
    }
    boolean moved = false;
    try {
      filler.accept(temp);
      fsyncTree(temp);
      Path old = oldSibling(dst);
      if (Files.exists(dst, LinkOption.NOFOLLOW_LINKS)) {
        moveAtomically(dst, old, false);
        try {
          moveAtomically(temp, dst, false);
        } catch (IOException e) {
          // Put the old folder back right away rather than leaving it to recover().
          try {
            moveAtomically(old, dst, false);
          } catch (IOException restoreFailure) {
            e.addSuppressed(restoreFailure);
          }
          throw e;
        }
        moved = true;
        fsyncDirectory(parent);
        deleteRecursively(old);
      } else {
        moveAtomically(temp, dst, false);
        moved = true;
        fsyncDirectory(parent);
      }
    } finally {
      if (!moved) {
        deleteRecursively(temp);
      }
    }
  }

  /**
   * Repairs what an interrupted {@link #replaceDirectory} may have left behind.
   *
   * <p>If {@code target} is missing but {@code <target>.old} exists, the crash happened between
   * the two renames: the old folder is renamed back. If both exist, the crash happened after the
   * new folder was in place, so the stale {@code .old} is deleted. Call this at start-up before
   * looking for {@code target}.
   *
   * @param target the folder that {@link #replaceDirectory} manages
   * @return {@code true} if the old folder was renamed back to {@code target}
   * @throws IOException if the rename or deletion fails
   */
  public static boolean recover(Path target) throws IOException {
    Path dst = target.toAbsolutePath();
    Path old = oldSibling(dst);
    if (!Files.exists(old, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    if (Files.exists(dst, LinkOption.NOFOLLOW_LINKS)) {
      deleteRecursively(old);
      return false;
    }
    moveAtomically(old, dst, false);
    fsyncDirectory(dst.getParent());
    return true;
  }

  /**
   * Returns whether {@code file} has a temporary name produced by this class, so that folder
   * listings (checkpoint scans, clean-ups) can skip it.
   *
   * @param file any path
   * @return {@code true} if its file name starts with {@value #TEMP_PREFIX} and ends with
   *     {@value #TEMP_SUFFIX}
   */
  public static boolean isTemporary(Path file) {
    Path name = file.getFileName();
    if (name == null) {
      return false;
    }
    String s = name.toString();
    return s.startsWith(TEMP_PREFIX) && s.endsWith(TEMP_SUFFIX);
  }

  /**
   * Deletes {@code path} and, if it is a folder, everything below it. Symbolic links are
   * deleted, not followed. A missing path is not an error.
   *
   * @param path the file or folder to delete
   * @throws IOException if a deletion fails
   */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(path, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
        if (exc != null) {
          throw exc;
        }
        Files.deleteIfExists(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static Path tempSibling(Path target) {
    String random = Long.toHexString(ThreadLocalRandom.current().nextLong());
    return target.resolveSibling(TEMP_PREFIX + target.getFileName() + "." + random + TEMP_SUFFIX);
  }

  private static Path oldSibling(Path target) {
    return target.resolveSibling(target.getFileName() + OLD_SUFFIX);
  }

  /**
   * Renames {@code from} to {@code to}, atomically when the file system allows it. Without
   * atomic-move support a plain (replacing) move is the best that can be done.
   */
  private static void moveAtomically(Path from, Path to, boolean replace) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      if (replace) {
        Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
      } else {
        Files.move(from, to);
      }
    }
  }

  /** Forces every regular file and folder below {@code root} to disk. */
  private static void fsyncTree(Path root) throws IOException {
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (attrs.isRegularFile()) {
          try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
          }
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
        if (exc != null) {
          throw exc;
        }
        fsyncDirectory(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /**
   * Forces a folder's entries (i.e. a completed rename) to disk. Works on Linux and macOS;
   * other systems (Windows) cannot open a folder as a channel, and there the rename is all
   * the durability on offer, so the failure is ignored.
   */
  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Best effort only; see the method comment.
    }
  }

  /**
   * Hands the writer a stream whose {@code close()} only flushes, so that a writer which
   * closes its stream (e.g. through try-with-resources on a wrapping Writer) does not close
   * the channel before it has been forced to disk.
   */
  private static final class UnclosableOutputStream extends OutputStream {
    private final OutputStream delegate;

    UnclosableOutputStream(OutputStream delegate) {
      this.delegate = delegate;
    }

    @Override
    public void write(int b) throws IOException {
      delegate.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      delegate.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      delegate.flush();
    }

    @Override
    public void close() throws IOException {
      delegate.flush();
    }
  }
}
