# ruff: noqa  (the notes' code as written: notebook style, not this project's)
# Seed 004 ("인공신경망 / 딥러닝 분류 모델 만들기"), listing 1 of 2, verbatim: trains an
# MNIST classifier on a tf.data pipeline and saves it as mnist_model.h5 in the
# current folder.
#
#   tinyann run examples/seeds/seed_004_train.py
#   tinyann run examples/seeds/seed_004_use_model.py     # listing 2: loads it back
#
# Nothing needed fixing. As in TensorFlow, `ds.shuffle(10000)` reshuffles at every
# pass, so `take` and `skip` draw a new (overlapping) split at every epoch: the
# "validation" figures are not those of held-out data. MNIST must be available to
# tinyann.datasets.mnist (see `tinyann data`).

import tensorflow as tf
import matplotlib.pyplot as plt
from tensorflow.keras.datasets import mnist
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Flatten, Dense

# MNIST 데이터셋 가져오기
(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0 # 데이터 정규화

# tf.data를 사용하여 데이터셋을 섞고 배치 만들기
ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000)
train_size = int(len(x_train) * 0.7) # 학습셋:검증셋 = 7:3

# 배치 사이즈는 학습시 샘플수를 의미, 배치 사이즈가 작을수록 가중치 갱신이 자주 일어난다
train_ds = ds.take(train_size).batch(20)
val_ds = ds.skip(train_size).batch(20)

# MNIST 분류 모델 구성
# 순차 모델을 사용
# 신경망 계층을 예제에서처럼 순차적으로 더해주기 때문, 가장 기본적인 방법
model = Sequential()

# 1개의 입력층
# flatten 게층은 28*28 크기의 2차원 이미지를 1차원으로 평탄화 시킴
model.add(Flatten(input_shape=(28, 28)))

# 2개의 은닉층
# 출력 크기가 20, 활성화 함수로 ReLU를 사용
model.add(Dense(20, activation='relu'))
model.add(Dense(20, activation='relu'))

# 1개의 출력층
# 출력층의 크기가 10(0~9)이기 때문
# softmax 함수는 입력받은 값을 출력으로 0~1 사이의 값으로 정규화한다
# 이중 가장 큰 출력값을 가지는 클래스가 결괏 값으로 사용된다
model.add(Dense(10, activation='softmax'))




# 모델 생성
model.compile(loss='sparse_categorical_crossentropy', optimizer='sgd', metrics=['accuracy'])
# model.compile(loss='categorical_crossentropy', optimizer='sgd', metrics=['accuracy'])

# 모델 학습
hist = model.fit(train_ds, validation_data=val_ds, epochs=10)

# 모델 평가
print('모델 평가')
model.evaluate(x_test, y_test)

# 모델 정보 출력
model.summary()

# 모델 저장
model.save('mnist_model.h5')

# 학습 결과 그래프 그리기
fig, loss_ax = plt.subplots()
acc_ax = loss_ax.twinx()
loss_ax.plot(hist.history['loss'], 'y', label='train loss')
loss_ax.plot(hist.history['val_loss'], 'r', label='val loss')
acc_ax.plot(hist.history['accuracy'], 'b', label='train acc')
acc_ax.plot(hist.history['val_accuracy'], 'g', label='val acc')
loss_ax.set_xlabel('epoch')
loss_ax.set_ylabel('loss')
acc_ax.set_ylabel('accuracy')
loss_ax.legend(loc='upper left')
acc_ax.legend(loc='lower left')
plt.show()
