"""Callbacks with Keras's names and hooks."""

from tinyann.callbacks.backup_and_restore import BackupAndRestore
from tinyann.callbacks.callback import Callback, CallbackList
from tinyann.callbacks.csv_logger import CSVLogger
from tinyann.callbacks.early_stopping import EarlyStopping
from tinyann.callbacks.history import History
from tinyann.callbacks.lambda_callback import LambdaCallback
from tinyann.callbacks.learning_rate_scheduler import LearningRateScheduler
from tinyann.callbacks.model_checkpoint import ModelCheckpoint
from tinyann.callbacks.monitor import MonitorCallback
from tinyann.callbacks.progbar_logger import ProgbarLogger
from tinyann.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from tinyann.callbacks.tensorboard import TensorBoard
from tinyann.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping",
           "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
           "MonitorCallback", "ProgbarLogger", "ReduceLROnPlateau", "TerminateOnNaN"]
__all__ += ["TensorBoard"]
