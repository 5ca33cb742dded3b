package org.l2l.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Generated files in the CIFAR-10 binary format, for tests here and elsewhere (for instance an
 * end-to-end run with {@code --dataset cifar10 --data-dir DIR}).
 */
public final class CifarFiles {

    private CifarFiles() {
    }

    /**
     * Writes the six files {@link Cifar10#FILE_NAMES} into {@code dir} (created if needed), each
     * with {@code recordsPerFile} records. Record {@code r} of file {@code f} (0..5, test file
     * last) has label {@link #label(int, int, int)}; its pixel bytes are random from
     * {@code seed}, so the same arguments always give the same files.
     *
     * @param dir            the folder, e.g. a {@code @TempDir}
     * @param recordsPerFile records in each file, at least 1
     * @param seed           seed of the pixel bytes
     */
    public static void write(Path dir, int recordsPerFile, long seed) {
        try {
            Files.createDirectories(dir);
            for (int f = 0; f < Cifar10.FILE_NAMES.size(); f++) {
                Files.write(dir.resolve(Cifar10.FILE_NAMES.get(f)),
                        batch(f, recordsPerFile, seed));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The label of record {@code record} in file {@code file}: the records cycle through
     * 0..9 across the training files (so every class occurs once there are 10 or more
     * training images), starting again at 0 in the test file.
     */
    public static int label(int file, int recordsPerFile, int record) {
        int index = file < Cifar10.TRAIN_FILES.size() ? file * recordsPerFile + record : record;
        return index % Cifar10.NUM_CLASSES;
    }

    /** The content of file {@code file} (0..5) as {@link #write} writes it. */
    public static byte[] batch(int file, int recordsPerFile, long seed) {
        SplittableRandom random = new SplittableRandom(seed * 31 + file);
        byte[] data = new byte[recordsPerFile * Cifar10.RECORD_BYTES];
        for (int r = 0; r < recordsPerFile; r++) {
            int offset = r * Cifar10.RECORD_BYTES;
            data[offset] = (byte) label(file, recordsPerFile, r);
            for (int i = 1; i < Cifar10.RECORD_BYTES; i++) {
                data[offset + i] = (byte) random.nextInt(256);
            }
        }
        return data;
    }
}
