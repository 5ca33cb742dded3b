package org.l2l.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.l2l.UserError;

/**
 * The image classification data sets by name: CIFAR-10 (the paper's convolutional experiment),
 * Fashion-MNIST (its stand-in where CIFAR-10 cannot be fetched) and MNIST.
 */
public final class ImageDatasets {

    /** The names {@link #load} accepts, as given with {@code --dataset}. */
    public static final List<String> NAMES = List.of(Cifar10.NAME, FashionMnist.NAME, "mnist");

    private record Key(String name, Path dir) {
    }

    private static final Map<Key, ImageDataset> LOADED = new ConcurrentHashMap<>();

    private ImageDatasets() {
    }

    /**
     * Fetches the data set named {@code name} into {@code dir} if its files are absent and
     * loads it, once per name and folder per process (later calls return the same instance).
     * CIFAR-10 goes through {@link Cifar10Fetcher} and {@link Cifar10}, Fashion-MNIST through
     * {@link FashionMnist}, MNIST through {@link MnistFetcher} and {@link MnistData} (checked
     * against its pinned sums).
     *
     * @param name one of {@link #NAMES}
     * @param dir  the data directory, e.g. {@link #defaultDir}
     * @param log  receives progress lines while fetching
     * @throws UserError     if {@code name} is not one of {@link #NAMES}
     * @throws DataException if the files cannot be obtained or are malformed
     */
    public static ImageDataset load(String name, Path dir, Consumer<String> log) {
        if (!NAMES.contains(name)) {
            throw UserError.flag("--dataset", name, "must be one of " + String.join(", ", NAMES));
        }
        return LOADED.computeIfAbsent(new Key(name, dir.toAbsolutePath().normalize()),
                key -> fetchAndLoad(name, dir, log));
    }

    /** The usual data directory of a data set, {@code data/NAME} under the working directory. */
    public static Path defaultDir(String name) {
        return Path.of("data", name);
    }

    private static ImageDataset fetchAndLoad(String name, Path dir, Consumer<String> log) {
        switch (name) {
            case Cifar10.NAME -> {
                Cifar10Fetcher.ensure(dir, log);
                return Cifar10.load(dir);
            }
            case FashionMnist.NAME -> {
                FashionMnist.ensure(dir, log);
                return of(name, FashionMnist.load(dir));
            }
            default -> {
                MnistFetcher.ensure(dir, log);
                return of(name, MnistData.load(dir));
            }
        }
    }

    private static ImageDataset of(String name, Mnist m) {
        return new ImageDataset(name, Images.of(m.train()), Images.of(m.test()));
    }

    /**
     * Fetches a data set into a folder if absent: {@code ImageDatasets NAME [DIR]}, DIR defaulting
     * to {@code data/NAME}; for preparing machines (CI). Exit code 2 with one line on standard
     * error when that fails.
     */
    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2 || !NAMES.contains(args[0])) {
            System.err.println("usage: ImageDatasets " + String.join("|", NAMES) + " [DIR]");
            System.exit(2);
        }
        Path dir = args.length > 1 ? Path.of(args[1]) : defaultDir(args[0]);
        try {
            switch (args[0]) {
                case Cifar10.NAME -> Cifar10Fetcher.ensure(dir, System.out::println);
                case FashionMnist.NAME -> FashionMnist.ensure(dir, System.out::println);
                default -> MnistFetcher.ensure(dir, System.out::println);
            }
        } catch (UserError e) {
            System.err.println("l2l: " + e.getMessage());
            System.exit(2);
        }
    }
}
