"""Subclassed models used by ``make_subclassed_fixtures.py`` (with real Keras) and by
tinyann's tests (with tinyann): ``define(keras)`` returns the classes made with
whichever module is given, so both sides run the very same model code; and the
reader of a weights file's layout both sides compare."""


def define(keras):
    """``{"Classifier": cls, "ResidualNet": cls}``, registered as ``Custom>Name``."""
    layers = keras.layers

    @keras.saving.register_keras_serializable(package="Custom")
    class Classifier(keras.Model):
        """Layers held in attributes and in a list, assigned out of calling order."""

        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.head = layers.Dense(3, activation="softmax")
            self.hidden = layers.Dense(units, activation="relu")
            self.blocks = [layers.Dense(units, activation="tanh"), layers.Dense(units)]
            self.dropout = layers.Dropout(0.25)

        def call(self, inputs, training=False):
            x = self.hidden(inputs)
            for block in self.blocks:
                x = block(x)
            x = self.dropout(x, training=training)
            return self.head(x)

        def get_config(self):
            config = super().get_config()
            config.update(units=self.units)
            return config

    @keras.saving.register_keras_serializable(package="Custom")
    class Block(layers.Layer):
        """A layer made of layers: ``x + second(first(x))``."""

        def __init__(self, width, **kwargs):
            super().__init__(**kwargs)
            self.width = width
            self.first = layers.Dense(width, activation="relu")
            self.second = layers.Dense(width)

        def call(self, inputs):
            return inputs + self.second(self.first(inputs))

        def get_config(self):
            config = super().get_config()
            config.update(width=self.width)
            return config

    @keras.saving.register_keras_serializable(package="Custom")
    class ResidualNet(keras.Model):
        """A subclassed model holding a user's layer."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.block = Block(5)
            self.out = layers.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.out(self.block(inputs))

    return {"Classifier": Classifier, "ResidualNet": ResidualNet, "Block": Block}


def weights_file_layout(path):
    """``{dataset path: shape}`` and ``{vars group path: its name attribute}`` of a
    ``.weights.h5`` file (h5py only: the same reader on both sides)."""
    import h5py

    datasets, names = {}, {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            datasets[name] = list(obj.shape)
        elif name.endswith("vars") and "name" in obj.attrs:
            names[name] = str(obj.attrs["name"])

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return datasets, names
