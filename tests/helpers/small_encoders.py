"""One small, weight-free config per registered Im2ImEncoder name, for tests run on every backbone
(``tests/modules/test_im2im_encoder_contract.py`` fails when a registered name has no config here)."""

SMALL_CONFIGS = {
    "feedforward": {"hidden_channels": [8, 16]},
    "pretrained_resnet": {"resnet_model": "resnet18", "pretrained": False},
    "residual": {"stage_channels": [8, 16]},
    "resnet": {"resnet_model": "resnet18", "pretrained": False},
    "timm": {"model_name": "mobilenetv3_small_050"},
}
