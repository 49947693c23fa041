// Your own classifier from one folder of class folders: <DATA_PATH>/<label>/<image>, nothing else.
//   DATA_PATH=my_photos allencv-lite train training_config/own_images.jsonnet -s runs/my_photos
//   allencv-lite predict runs/my_photos/model.tar.gz new_photos/ --output-file predictions.csv
// A fifth of each class (at least one image) is held out for validation, the same files every run
// (validation_split with its seed; the archive lists them in validation_files.txt).
//
// One fixed recipe for 6 to 10,000 images per class (Jsonnet cannot count files, so nothing here
// depends on the folder's size): EfficientNet-Lite0's ImageNet features, left frozen, and a logistic
// regression fitted on them as the classification layer (the trainer's linear probe: num_epochs 0 with
// linear_probe_first, so nothing is trained by gradient descent). With few images, only a linear layer
// keeps the model from learning the photos by heart; with many, frozen features are already within a
// point or two of fine-tuning on photos like ImageNet's (docs/fine_tuning.md) at a fraction of the time.
// There is no learning rate or number of epochs to choose: the probe's L2 strength (one of four) is chosen
// by 5-fold cross-validation on the training images, so each class needs at least 5 of them, 6 in the
// folder with one held out; fewer is refused naming the class. The validation images judge the probe as
// epoch 0 and decide whether a temperature is kept.
// Fine-tune the backbone instead (training_config/cats_dogs_efficientnet_finetune.jsonnet) when your
// photos look nothing like ImageNet's (X-rays, microscopy).
// Measured: docs/own_images.md and benchmarks/RESULTS.md.
local SIZE = 224;  // pixels: EfficientNet-Lite0's own input size
local NORMALIZE = {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]};  // TensorFlow's EfficientNet-Lite input
// Shorter side to 256 keeps the proportions, then the centre 224 square (7/8 of it, as ImageNet's evaluation
// does), for the training images too: each is seen once, to compute its features, so there is nothing
// to augment. With the recipe before the probe (10 epochs of AdamW on random crops) on 2 × 24 training
// photos of cats and dogs (load average 12-17), 200 unseen photos scored: shorter side 224 and crop
// 97.0 %; squashed to 224 × 224 96.5 %; shorter side 256 and crop 98.0 %.
local PREPROCESSING = [{"type": "smallest_max_size", "max_size": 256},
                       {"type": "center_crop", "height": SIZE, "width": SIZE}, NORMALIZE];

{
  "dataset_reader": {
    "type": "image_classification_directory",
    "validation_split": 0.2,
    "seed": 13,
    "augmentation": PREPROCESSING,
    "lazy": false
  },
  "validation_dataset_reader": {"type": "image_classification_directory", "augmentation": PREPROCESSING,
                                "lazy": false},
  "train_data_path": std.extVar("DATA_PATH"),
  "model": {
    "type": "basic_image_classifier",
    "im2im_encoder": {"type": "timm", "model_name": "tf_efficientnet_lite0", "pretrained": true,
                      "requires_grad": false, "freeze_batch_norm": true, "channels_last": true},
    "im2vec_encoder": {"type": "global_average"}
  },
  "iterator": {"type": "basic", "batch_size": 16},
  "trainer": {
    "num_epochs": 0,
    "linear_probe_first": true,
    "validation_metric": "-loss",
    "cuda_device": -1
  }
}
