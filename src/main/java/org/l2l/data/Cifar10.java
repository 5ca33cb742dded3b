package org.l2l.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loader for CIFAR-10 in its binary format ("CIFAR-10 binary version (suitable for C programs)").
 *
 * <p>The data set is six files, as in the official archive's {@code cifar-10-batches-bin/}
 * folder: {@code data_batch_1.bin} .. {@code data_batch_5.bin} (training, 50,000 images) and
 * {@code test_batch.bin} (10,000). Each file is a sequence of {@value #RECORD_BYTES}-byte
 * records: one label byte (0..9), then 3,072 pixel bytes, namely 1,024 red, 1,024 green and 1,024
 * blue values, each plane a row-major 32x32 image. They are converted to NHWC floats divided by
 * 255 ({@link Images}).
 *
 * <p>The standard files have exactly {@value #STANDARD_RECORDS} records each, but any whole
 * number of records, at least one, is accepted, so that tests (and quick experiments) can use
 * small files in the same format. A file whose size is not a multiple of
 * {@value #RECORD_BYTES} bytes (typically a cut-off download) or with a label byte above 9 is
 * rejected with a one-line {@link DataException} naming it.
 */
public final class Cifar10 {

    /** The data set's name in {@link ImageDatasets#NAMES}. */
    public static final String NAME = "cifar10";
    /** The folder of the official archive that holds the six files. */
    public static final String BATCHES_DIR = "cifar-10-batches-bin";
    /** The five training files, in order. */
    public static final List<String> TRAIN_FILES = List.of("data_batch_1.bin",
            "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin");
    /** The test file. */
    public static final String TEST_FILE = "test_batch.bin";
    /** The six files: {@link #TRAIN_FILES}, then {@link #TEST_FILE}. */
    public static final List<String> FILE_NAMES = List.of("data_batch_1.bin",
            "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
            TEST_FILE);
    /** Image height. */
    public static final int HEIGHT = 32;
    /** Image width. */
    public static final int WIDTH = 32;
    /** Colour channels, stored as planes R, G, B. */
    public static final int CHANNELS = 3;
    /** Bytes per image: one plane per channel. */
    public static final int IMAGE_BYTES = HEIGHT * WIDTH * CHANNELS;
    /** Bytes per record: the label byte, then the image. */
    public static final int RECORD_BYTES = 1 + IMAGE_BYTES;
    /** Records in each of the six standard files. */
    public static final int STANDARD_RECORDS = 10_000;
    /** Labels are 0..NUM_CLASSES-1. */
    public static final int NUM_CLASSES = 10;

    /** How the six files are named together in messages. */
    static final String FILES_DESCRIPTION =
            "data_batch_1.bin .. data_batch_5.bin and test_batch.bin";

    private static final int PLANE = HEIGHT * WIDTH;

    private Cifar10() {
    }

    /**
     * Loads CIFAR-10 from a directory holding the six binary files ({@link #FILE_NAMES}), either
     * directly or in a {@value #BATCHES_DIR} subfolder (as the official archive extracts).
     *
     * @param dir the data directory, e.g. {@code data/cifar10}
     * @return the data set named {@value #NAME}: the five training files' images in order
     *         (50,000 for the standard files), and the test file's (10,000)
     * @throws DataException if a file is missing, unreadable, not a whole number of records or
     *                       has a label byte above 9
     */
    public static ImageDataset load(Path dir) {
        Path folder = locate(dir);
        List<Path> train = new ArrayList<>();
        for (String name : TRAIN_FILES) {
            train.add(require(folder, name));
        }
        Path test = require(folder, TEST_FILE);
        return new ImageDataset(NAME, read(train), read(List.of(test)));
    }

    /**
     * Reads CIFAR-10 binary files into one set of images, in file and record order.
     *
     * @param files the files, each a whole number of records (at least one)
     * @throws DataException if a file is missing, unreadable, not a whole number of records or
     *                       has a label byte above 9
     */
    public static Images read(List<Path> files) {
        long[] records = new long[files.size()];
        long total = 0;
        for (int f = 0; f < files.size(); f++) {
            records[f] = recordCount(files.get(f), size(files.get(f)));
            total += records[f];
        }
        if (total * IMAGE_BYTES > Integer.MAX_VALUE - 8) {
            throw new DataException(files.get(files.size() - 1) + ": too many records together ("
                    + total + ") to hold in one array");
        }
        int count = (int) total;
        float[] pixels = new float[count * IMAGE_BYTES];
        int[] labels = new int[count];
        int n = 0;
        for (int f = 0; f < files.size(); f++) {
            Path file = files.get(f);
            byte[] data = readAll(file);
            if (data.length != records[f] * RECORD_BYTES) {
                throw new DataException(file + ": changed while being read ("
                        + records[f] * RECORD_BYTES + " bytes, then " + data.length + ")");
            }
            for (int r = 0; r < records[f]; r++, n++) {
                int offset = r * RECORD_BYTES;
                labels[n] = label(file, r, data[offset]);
                toNhwc(data, offset + 1, pixels, n * IMAGE_BYTES);
            }
        }
        return new Images(pixels, labels, count, HEIGHT, WIDTH, CHANNELS);
    }

    /**
     * Checks a file without converting it: its size is a whole number of records (at least one)
     * and every label byte is 0..9.
     *
     * @return the number of records
     * @throws DataException naming the file and what is wrong
     */
    static int check(Path file) {
        byte[] data = readAll(file);
        int records = (int) recordCount(file, data.length);
        for (int r = 0; r < records; r++) {
            label(file, r, data[r * RECORD_BYTES]);
        }
        return records;
    }

    /**
     * The folder that holds the files: {@code dir} if it holds all six, else its
     * {@value #BATCHES_DIR} subfolder if that holds all six; when neither is complete, whichever
     * holds more of them ({@code dir} on a tie), so messages name the file that is missing there.
     */
    static Path locate(Path dir) {
        Path nested = dir.resolve(BATCHES_DIR);
        int direct = present(dir);
        if (direct == FILE_NAMES.size()) {
            return dir;
        }
        int inNested = present(nested);
        return inNested > direct ? nested : dir;
    }

    /** The names of the six files not present where {@link #locate} looks. */
    static List<String> missing(Path dir) {
        Path folder = locate(dir);
        List<String> missing = new ArrayList<>();
        for (String name : FILE_NAMES) {
            if (!Files.isRegularFile(folder.resolve(name))) {
                missing.add(name);
            }
        }
        return missing;
    }

    private static int present(Path folder) {
        int n = 0;
        for (String name : FILE_NAMES) {
            if (Files.isRegularFile(folder.resolve(name))) {
                n++;
            }
        }
        return n;
    }

    private static Path require(Path folder, String name) {
        Path file = folder.resolve(name);
        if (!Files.isRegularFile(file)) {
            String where = Files.isDirectory(folder) ? folder.toString()
                    : folder + " (no such directory)";
            String nested = folder.getFileName() != null
                    && folder.getFileName().toString().equals(BATCHES_DIR) ? ""
                    : " (nor in its " + BATCHES_DIR + " subfolder)";
            throw new DataException(where + ": " + name + " not found" + nested
                    + "; let the program fetch CIFAR-10 or pass the directory holding the six"
                    + " CIFAR-10 binary files (" + FILES_DESCRIPTION + ") with --data-dir");
        }
        return file;
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** The number of records in a file of {@code bytes}, which must be a positive multiple. */
    private static long recordCount(Path file, long bytes) {
        if (bytes == 0) {
            throw new DataException(file + ": empty; a CIFAR-10 binary batch holds records of "
                    + RECORD_BYTES + " bytes (label byte, then 32x32 R, G and B planes), "
                    + STANDARD_RECORDS + " in a standard file");
        }
        if (bytes % RECORD_BYTES != 0) {
            throw new DataException(file + ": truncated or not a CIFAR-10 binary batch: "
                    + bytes + " bytes is not a whole number of " + RECORD_BYTES
                    + "-byte records (" + bytes / RECORD_BYTES + " records and " + bytes
                    % RECORD_BYTES + " bytes; a standard file has " + STANDARD_RECORDS
                    + " records, " + (long) STANDARD_RECORDS * RECORD_BYTES + " bytes)");
        }
        return bytes / RECORD_BYTES;
    }

    private static int label(Path file, int record, byte b) {
        int label = Byte.toUnsignedInt(b);
        if (label >= NUM_CLASSES) {
            throw new DataException(file + ": record " + record + " has label byte " + label
                    + ", expected 0.." + (NUM_CLASSES - 1) + " (not a CIFAR-10 binary batch?)");
        }
        return label;
    }

    /** Planes R, G, B (each row-major) to interleaved HWC, scaled to [0, 1]. */
    private static void toNhwc(byte[] data, int from, float[] pixels, int to) {
        for (int c = 0; c < CHANNELS; c++) {
            int plane = from + c * PLANE;
            for (int p = 0; p < PLANE; p++) {
                pixels[to + p * CHANNELS + c] = MnistData.scaled(data[plane + p]);
            }
        }
    }
}
