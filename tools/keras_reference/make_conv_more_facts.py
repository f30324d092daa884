"""Reference outputs, configs and training steps of Keras 3's depthwise, separable,
1-D transposed and 3-D convolution-family layers, for tests/layers/test_depthwise_separable.py,
test_layers_1d_more.py and test_layers_3d.py.

Runs ONLY in the separate Keras venv (see README.md beside this file), on JAX. For each
case: a seeded input, seeded weights (0.3 * standard normal), the layer's output and
config; for layers with weights, the weights of Input -> layer -> Flatten -> Dense(1)
after three SGD steps (learning rate 0.01, mse) from seeded weights. Also a small
Xception-like model (SeparableConv2D, BatchNormalization, residual Add) saved as a
.keras file with its predictions, to load in tinyann.

Writes tests/fixtures/conv_more/facts.npz (arrays, and the JSON of the cases under
the key ``facts``) and tests/fixtures/conv_more/xception_tiny.keras.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_conv_more_facts.py
"""

from __future__ import annotations

import json
import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "conv_more")

IMAGE, SEQUENCE, SEQUENCE_FIRST, VOLUME = (7, 6, 3), (9, 3), (3, 9), (5, 6, 4, 3)
# name -> (class name, kwargs, input shape without the batch)
CASES = {
    "dw2d_valid": ("DepthwiseConv2D", dict(kernel_size=3), IMAGE),
    "dw2d_same_dm2": ("DepthwiseConv2D", dict(kernel_size=3, padding="same",
                                              depth_multiplier=2), IMAGE),
    "dw2d_stride2_relu": ("DepthwiseConv2D", dict(kernel_size=(2, 3), strides=2,
                                                  padding="same", activation="relu"), IMAGE),
    "dw2d_dilated_dm3": ("DepthwiseConv2D", dict(kernel_size=3, dilation_rate=2,
                                                 depth_multiplier=3, use_bias=False), IMAGE),
    "dw2d_stride21_tanh": ("DepthwiseConv2D", dict(kernel_size=3, strides=(2, 1),
                                                   activation="tanh"), IMAGE),
    "sep2d_valid": ("SeparableConv2D", dict(filters=4, kernel_size=3), IMAGE),
    "sep2d_same_dm2_relu": ("SeparableConv2D", dict(filters=5, kernel_size=3, padding="same",
                                                    depth_multiplier=2, activation="relu"),
                            IMAGE),
    "sep2d_stride2_nobias": ("SeparableConv2D", dict(filters=4, kernel_size=(3, 2), strides=2,
                                                     padding="same", use_bias=False), IMAGE),
    "sep2d_dilated_tanh": ("SeparableConv2D", dict(filters=3, kernel_size=3,
                                                   dilation_rate=(2, 1), depth_multiplier=2,
                                                   activation="tanh"), IMAGE),
    "dw1d_valid": ("DepthwiseConv1D", dict(kernel_size=3), SEQUENCE),
    "dw1d_same_stride2_dm2": ("DepthwiseConv1D", dict(kernel_size=3, strides=2, padding="same",
                                                      depth_multiplier=2), SEQUENCE),
    "dw1d_dilated_first": ("DepthwiseConv1D", dict(kernel_size=2, dilation_rate=2,
                                                   data_format="channels_first"),
                           SEQUENCE_FIRST),
    "sep1d_valid": ("SeparableConv1D", dict(filters=4, kernel_size=3), SEQUENCE),
    "sep1d_same_dm2_relu": ("SeparableConv1D", dict(filters=4, kernel_size=3, strides=2,
                                                    padding="same", depth_multiplier=2,
                                                    activation="relu"), SEQUENCE),
    "sep1d_first": ("SeparableConv1D", dict(filters=2, kernel_size=2,
                                            data_format="channels_first"), SEQUENCE_FIRST),
    "convt1d_valid": ("Conv1DTranspose", dict(filters=3, kernel_size=3), SEQUENCE),
    "convt1d_same_stride2": ("Conv1DTranspose", dict(filters=2, kernel_size=3, strides=2,
                                                     padding="same"), SEQUENCE),
    "convt1d_output_padding": ("Conv1DTranspose", dict(filters=2, kernel_size=4, strides=2,
                                                       output_padding=1), SEQUENCE),
    "convt1d_dilated_tanh": ("Conv1DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2,
                                                     activation="tanh", use_bias=False),
                             SEQUENCE),
    "convt1d_first": ("Conv1DTranspose", dict(filters=2, kernel_size=2, strides=3,
                                              padding="same", data_format="channels_first"),
                      SEQUENCE_FIRST),
    "crop1d": ("Cropping1D", dict(cropping=(1, 2)), SEQUENCE),
    "crop1d_int": ("Cropping1D", dict(cropping=3), SEQUENCE),
    "pad1d": ("ZeroPadding1D", dict(padding=(2, 1)), SEQUENCE),
    "pad1d_first": ("ZeroPadding1D", dict(padding=1, data_format="channels_first"),
                    SEQUENCE_FIRST),
    "up1d": ("UpSampling1D", dict(size=3), SEQUENCE),
    "conv3d_valid": ("Conv3D", dict(filters=2, kernel_size=2), VOLUME),
    "conv3d_same_stride2_relu": ("Conv3D", dict(filters=3, kernel_size=3, strides=2,
                                                padding="same", activation="relu"), VOLUME),
    "conv3d_dilated_nobias": ("Conv3D", dict(filters=2, kernel_size=(2, 2, 1),
                                             dilation_rate=(2, 1, 1), use_bias=False), VOLUME),
    "maxpool3d": ("MaxPooling3D", dict(pool_size=2), VOLUME),
    "maxpool3d_same": ("MaxPooling3D", dict(pool_size=(2, 3, 2), strides=(1, 2, 2),
                                            padding="same"), VOLUME),
    "avgpool3d": ("AveragePooling3D", dict(pool_size=2, strides=1), VOLUME),
    "avgpool3d_same": ("AveragePooling3D", dict(pool_size=(3, 2, 3), strides=2,
                                                padding="same"), VOLUME),
    "gap3d": ("GlobalAveragePooling3D", dict(), VOLUME),
    "gap3d_keepdims": ("GlobalAveragePooling3D", dict(keepdims=True), VOLUME),
    "gmp3d": ("GlobalMaxPooling3D", dict(), VOLUME),
    "up3d": ("UpSampling3D", dict(size=(1, 2, 3)), VOLUME),
    "pad3d": ("ZeroPadding3D", dict(padding=((1, 0), (0, 2), (1, 1))), VOLUME),
    "pad3d_int": ("ZeroPadding3D", dict(padding=1), VOLUME),
    "crop3d": ("Cropping3D", dict(cropping=((1, 0), (0, 2), (1, 1))), VOLUME),
}


def seeded(shapes, seed):
    rng = np.random.default_rng(seed)
    return [(0.3 * rng.standard_normal(s)).astype("float32") for s in shapes]


def plain(value):
    """JSON-safe: tuples as lists."""
    return json.loads(json.dumps(value, default=list))


def xception_tiny():
    """Chapter 9's Xception-like block, tiny: SeparableConv2D + BatchNormalization +
    residual Add (a strided 1 x 1 Conv2D on the shortcut)."""
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(8, 3, use_bias=False)(inputs)
    residual = x
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.SeparableConv2D(8, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.SeparableConv2D(16, 3, padding="same", depth_multiplier=2)(x)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same")(x)
    residual = keras.layers.Conv2D(16, 1, strides=2, padding="same")(residual)
    x = keras.layers.add([x, residual])
    x = keras.layers.DepthwiseConv2D(3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays, facts = {}, {}
    for k, (name, (class_name, kwargs, shape)) in enumerate(CASES.items()):
        rng = np.random.default_rng(k)
        x = rng.standard_normal((4,) + shape).astype("float32")
        y = rng.standard_normal((4, 1)).astype("float32")
        layer = getattr(keras.layers, class_name)(**kwargs)
        model = keras.Sequential([keras.Input(shape), layer, keras.layers.Flatten(),
                                  keras.layers.Dense(1)])
        weights = seeded([w.shape for w in model.get_weights()], k)
        model.set_weights(weights)
        arrays[f"{name}/x"], arrays[f"{name}/target"] = x, y
        arrays[f"{name}/output"] = np.asarray(layer(x))
        for i, w in enumerate(weights):
            arrays[f"{name}/initial_{i}"] = w
        config = plain({key: v for key, v in layer.get_config().items()
                        if key not in ("name", "dtype")})
        facts[name] = {"class_name": class_name, "kwargs": kwargs, "shape": list(shape),
                       "weights": len(weights), "config": config,
                       "paths": [w.path.split("/")[-1] for w in layer.weights],
                       "output_shape": plain(layer.compute_output_shape((None,) + shape))}
        if layer.weights:
            model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
            for _ in range(3):
                model.train_on_batch(x, y)
            for i, w in enumerate(model.get_weights()):
                arrays[f"{name}/trained_{i}"] = w

    keras.utils.set_random_seed(0)
    model = xception_tiny()
    rng = np.random.default_rng(99)
    x = rng.random((8, 12, 12, 3), dtype=np.float32)
    labels = rng.integers(0, 2, 8)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, labels, epochs=2, batch_size=4, verbose=0, shuffle=False)
    arrays["xception/x"] = x
    arrays["xception/prediction"] = model.predict(x, verbose=0)
    model.save(os.path.join(OUT, "xception_tiny.keras"))

    arrays["facts"] = np.array(json.dumps(facts))
    path = os.path.join(OUT, "facts.npz")
    np.savez_compressed(path + ".tmp.npz", **arrays)
    os.replace(path + ".tmp.npz", path)
    print(f"wrote {len(facts)} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
