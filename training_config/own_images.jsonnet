// Your own classifier from one folder of class folders: <DATA_PATH>/<label>/<image>, nothing else.
//   DATA_PATH=my_photos allencv-lite train training_config/own_images.jsonnet -s runs/my_photos
//   allencv-lite predict runs/my_photos/model.tar.gz new_photos/ --output-file predictions.csv
// A fifth of each class (at least one image) is held out for validation, the same files every run
// (validation_split with its seed; the archive lists them in validation_files.txt).
//
// One fixed recipe for 10 to 10,000 images per class (Jsonnet cannot count files, so nothing here
// depends on the folder's size): EfficientNet-Lite0's ImageNet features, frozen with their batch norms,
// and a new linear layer on top. With few images, only a linear layer keeps the model from learning the
// photos by heart; with many, frozen features are already within a point or two of fine-tuning on
// photos like ImageNet's (docs/fine_tuning.md) at a fraction of the time. Batches of 16 give 10 images
// per class at least one step per epoch and 10,000 per class 1,250; early stopping (patience 3 on the
// validation loss) ends a large folder's run once it stops improving, and the best epoch is kept.
// Fine-tune the backbone instead (training_config/cats_dogs_efficientnet_finetune.jsonnet) when your
// photos look nothing like ImageNet's (X-rays, microscopy), and change the length with
//   -o '{"trainer": {"num_epochs": 3}}'.
// Measured: docs/own_images.md and benchmarks/RESULTS.md.
local SIZE = 224;  // pixels: EfficientNet-Lite0's own input size
local NORMALIZE = {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]};  // TensorFlow's EfficientNet-Lite input
// Shorter side to 256 keeps the proportions, then a 224 square crop (7/8 of it, as ImageNet's evaluation
// does). On 2 × 24 training photos of cats and dogs (load average 12-17, so times are not comparable),
// 200 unseen photos scored: shorter side 224 and crop 97.0 %; squashed to 224 × 224 96.5 %; this 98.0 %.
local SHORTER_SIDE = {"type": "smallest_max_size", "max_size": 256};

{
  "dataset_reader": {
    "type": "image_classification_directory",
    "validation_split": 0.2,
    "seed": 13,
    "augmentation": [SHORTER_SIDE, {"type": "random_crop", "height": SIZE, "width": SIZE}, {"type": "flip", "p": 0.5},
                     NORMALIZE],
    "lazy": false
  },
  "validation_dataset_reader": {
    "type": "image_classification_directory",
    "augmentation": [SHORTER_SIDE, {"type": "center_crop", "height": SIZE, "width": SIZE}, NORMALIZE],
    "lazy": false
  },
  "train_data_path": std.extVar("DATA_PATH"),
  "model": {
    "type": "basic_image_classifier",
    "im2im_encoder": {"type": "timm", "model_name": "tf_efficientnet_lite0", "pretrained": true,
                      "requires_grad": false, "freeze_batch_norm": true, "channels_last": true},
    "im2vec_encoder": {"type": "global_average"},
    "dropout": 0.2
  },
  "iterator": {"type": "basic", "batch_size": 16},
  "trainer": {
    "num_epochs": 10,
    "patience": 3,
    "validation_metric": "-loss",
    "cuda_device": -1,
    "optimizer": {"type": "adamw", "lr": 0.01, "weight_decay": 1e-4},  // 3e-3: 97.0 %, 0.01: 97.5 % (shorter side 224)
    "learning_rate_scheduler": {"type": "slanted_triangular"}
  }
}
