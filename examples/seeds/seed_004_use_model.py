# ruff: noqa  (the notes' code as written: notebook style, not this project's)
# Seed 004, listing 2 of 2 ("학습된 모델 사용하기"), verbatim: loads mnist_model.h5
# saved by seed_004_train.py (run that first, in the same folder) and classifies test
# image 20. `predict_classes` was removed from Keras in 2.6; tinyann keeps it with a
# DeprecationWarning naming the modern `np.argmax(model.predict(x), axis=-1)`.

from tensorflow.keras.datasets import mnist
from tensorflow.keras.models import load_model
import matplotlib.pyplot as plt


# MNIST 데이터셋 가져오기

_, (x_test, y_test) = mnist.load_data()
x_test = x_test / 255.0 # 데이터 정규화

# 모델 불러오기

model = load_model('mnist_model.h5')
model.summary()
model.evaluate(x_test, y_test, verbose=2)

# 테스트셋에서 20번째 이미지 출력

plt.imshow(x_test[20], cmap="gray")
plt.show()

# 테스트셋의 20번째 이미지 클래스 분류

picks = [20]
predict = model.predict_classes(x_test[picks])
print("손글씨 이미지 예측값 : ", predict)
