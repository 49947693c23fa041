// Notebook 07's model (on a sample of 150 training photos per class): EfficientNet-Lite0's
// ImageNet features, frozen with their batch norms, and a new linear layer trained on top for
// 2 epochs at 128 pixels. Only the last layer learns, so it trains in under a minute on a
// 2-core CPU, cannot memorise a wrong label, and a photo whose label is wrong keeps a high
// loss: what the DatasetCleaner ranks by.
//   TRAIN_PATH=../shared/data/cats_dogs/train VALIDATION_PATH=../shared/data/cats_dogs/val \
//     allencv-lite train training_config/cats_dogs_frozen_lesson.jsonnet -s runs/frozen_lesson
local SIZE = 128;  // pixels: Grad-CAM's map of blocks.6 is then 4×4
local AUGMENTATION = [
  {"type": "resize", "height": SIZE, "width": SIZE},
  {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},  // TensorFlow's EfficientNet-Lite input
];

{
  "dataset_reader": {"type": "image_classification_directory", "augmentation": AUGMENTATION, "lazy": false},
  "validation_dataset_reader": {"type": "image_classification_directory", "augmentation": AUGMENTATION, "lazy": false},
  "train_data_path": std.extVar("TRAIN_PATH"),
  "validation_data_path": std.extVar("VALIDATION_PATH"),
  "model": {
    "type": "basic_image_classifier",
    "im2im_encoder": {"type": "timm", "model_name": "tf_efficientnet_lite0", "pretrained": true,
                      "requires_grad": false, "freeze_batch_norm": true, "channels_last": true},
    "im2vec_encoder": {"type": "global_average"}
  },
  "iterator": {"type": "basic", "batch_size": 16, "shuffle": true},
  "trainer": {
    "num_epochs": 2,
    "validation_metric": "+accuracy",
    "cuda_device": -1,
    "optimizer": {"type": "adam", "lr": 3e-3}
  }
}
