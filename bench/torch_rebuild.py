"""A tfjs model rebuilt layer by layer in PyTorch from its description (bench/training-nets.ts describeModel),
for the training bench (training_torch.py) and the reference trainer (reference_torch.py).

TensorFlow 'same' padding becomes explicit (possibly asymmetric) padding; average pooling divides by the
pixels inside the image, as TensorFlow does; separable convs are depthwise + pointwise; batch norm takes
its epsilon and momentum (tfjs momentum m is PyTorch's 1 - m); the classifier's softmax is left to the loss,
so forward returns logits. Flatten reads channels first (tfjs: channels last), the same values in another
order for a classifier drawn on its own. Weights start as tfjs draws them: He normal truncated at two deviations for
convolutions, Glorot uniform for the classifier, zero biases, with tfjs's fans (its depthwise kernels count
every input channel in the fan-in). The draws differ; the scales are the same. tfjs_weights lays the
trainer's own weights out for the rebuild, for the reference's one-batch check.
"""

import math


def same_padding(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def build(layers, torch):
    nn = torch.nn
    F = torch.nn.functional
    modules = nn.ModuleDict()
    shapes = {}
    steps = []

    def he_normal(weight, fan_in):
        std = math.sqrt(2 / fan_in)
        nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)

    def conv(channels_in, channels_out, kernel, strides, use_bias, groups=1, tfjs_fan_in=None):
        module = nn.Conv2d(channels_in, channels_out, tuple(kernel), tuple(strides), groups=groups, bias=use_bias)
        he_normal(module.weight, tfjs_fan_in or channels_in * kernel[0] * kernel[1])
        if use_bias:
            nn.init.zeros_(module.bias)
        return module

    for layer in layers:
        name, kind, config, inputs = layer["name"], layer["className"], layer["config"], layer["inputs"]
        shapes[name] = layer["outputShape"]
        source = shapes[inputs[0]] if inputs else None
        key = name.replace("/", "_")
        use_bias = config.get("useBias", True)
        if kind == "Conv2D":
            modules[key] = conv(source[2], config["filters"], config["kernelSize"], config["strides"], use_bias)
        elif kind == "SeparableConv2D":
            kernel = config["kernelSize"]
            channels = source[2]
            multiplier = config.get("depthMultiplier", 1)
            modules[key] = nn.Sequential(
                conv(channels, channels * multiplier, kernel, config["strides"], False, groups=channels,
                     tfjs_fan_in=channels * kernel[0] * kernel[1]),
                conv(channels * multiplier, config["filters"], (1, 1), (1, 1), use_bias),
            )
        elif kind == "BatchNormalization":
            modules[key] = nn.BatchNorm2d(source[2], eps=config["epsilon"], momentum=1 - config["momentum"])
        elif kind == "Dense":
            if config.get("activation") not in (None, "linear", "softmax"):
                raise ValueError(f"Dense activation {config['activation']} is not rebuilt in PyTorch")
            size = math.prod(source)
            modules[key] = nn.Linear(size, config["units"])
            nn.init.xavier_uniform_(modules[key].weight)
            nn.init.zeros_(modules[key].bias)
        steps.append((key, kind, config, inputs, source))

    def pad_same(x, source, kernel, strides, value=0.0):
        top, bottom = same_padding(source[0], kernel[0], strides[0])
        left, right = same_padding(source[1], kernel[1], strides[1])
        return F.pad(x, (left, right, top, bottom), value=value) if top or bottom or left or right else x

    def average_pool(x, source, kernel, strides, same):
        if not same:
            return F.avg_pool2d(x, tuple(kernel), tuple(strides))
        inside = torch.ones(1, 1, source[0], source[1], dtype=x.dtype, device=x.device)
        sums = F.avg_pool2d(pad_same(x, source, kernel, strides), tuple(kernel), tuple(strides))
        return sums / F.avg_pool2d(pad_same(inside, source, kernel, strides), tuple(kernel), tuple(strides))

    def forward(image):
        values = {}
        output = None
        for key, kind, config, inputs, source in steps:
            x = values[inputs[0]] if inputs else None
            if kind == "InputLayer":
                y = image
            elif kind in ("Conv2D", "SeparableConv2D"):
                if config.get("padding") == "same":
                    x = pad_same(x, source, config["kernelSize"], config["strides"])
                y = modules[key](x)
                if config.get("activation") == "relu":
                    y = F.relu(y)
            elif kind == "MaxPooling2D":
                kernel, strides = config["poolSize"], config["strides"]
                if config.get("padding") == "same":
                    x = pad_same(x, source, kernel, strides, float("-inf"))
                y = F.max_pool2d(x, tuple(kernel), tuple(strides))
            elif kind == "AveragePooling2D":
                y = average_pool(x, source, config["poolSize"], config["strides"], config.get("padding") == "same")
            elif kind == "ZeroPadding2D":
                (top, bottom), (left, right) = config["padding"]
                y = F.pad(x, (left, right, top, bottom))
            elif kind == "BatchNormalization":
                y = modules[key](x)
            elif kind == "ReLU":
                y = F.relu(x)
            elif kind == "Concatenate":
                y = torch.cat([values[i] for i in inputs], dim=1)
            elif kind == "Add":
                y = sum(values[i] for i in inputs)
            elif kind == "GlobalAveragePooling2D":
                y = x.mean(dim=(2, 3))
            elif kind == "Flatten":
                y = torch.flatten(x, 1)
            elif kind == "Dense":
                y = modules[key](x)
            else:
                raise ValueError(f"layer {kind} is not rebuilt in PyTorch")
            values[key] = y
            output = y
        return output

    return modules, forward


def read_description(spec):
    """The layers of a description, with names PyTorch accepts as module keys."""
    layers = spec["layers"]
    for layer in layers:
        layer["name"] = layer["name"].replace("/", "_")
        layer["inputs"] = [i.replace("/", "_") for i in layer["inputs"]]
    return layers



def conv_layout(kernel):
    """tfjs [kh, kw, in, out] as PyTorch's [out, in, kh, kw]."""
    return kernel.permute(3, 2, 0, 1)


def depthwise_layout(kernel):
    """tfjs [kh, kw, in, multiplier] as [in * multiplier, 1, kh, kw]: both put channel c's outputs at c*m .. c*m + m-1."""
    return kernel.permute(2, 3, 0, 1).reshape(-1, 1, kernel.shape[0], kernel.shape[1])


def as_is(values):
    return values


def tfjs_weights(layers, modules):
    """Each tfjs weight, keyed "layer/weight" as tfjs names it, as (its PyTorch tensor, a function that lays a
    tfjs array of it out as that tensor): to start both trainers from the same weights and compare gradients."""
    by_name = {layer["name"]: layer for layer in layers}
    weights = {}
    for layer in layers:
        name, kind = layer["name"], layer["className"]
        if kind == "Conv2D":
            module = modules[name]
            named = {"kernel": (module.weight, conv_layout), "bias": (module.bias, as_is)}
        elif kind == "SeparableConv2D":
            depthwise, pointwise = modules[name]
            named = {"depthwise_kernel": (depthwise.weight, depthwise_layout),
                     "pointwise_kernel": (pointwise.weight, conv_layout), "bias": (pointwise.bias, as_is)}
        elif kind == "BatchNormalization":
            module = modules[name]
            named = {"gamma": (module.weight, as_is), "beta": (module.bias, as_is),
                     "moving_mean": (module.running_mean, as_is), "moving_variance": (module.running_var, as_is)}
        elif kind == "Dense":
            module = modules[name]
            source = by_name[layer["inputs"][0]]
            if source["className"] == "Flatten":
                # tfjs flattens [h, w, c] channels last; the rebuild flattens channels first.
                height, width, channels = by_name[source["inputs"][0]]["outputShape"]

                def dense_layout(kernel, h=height, w=width, c=channels):
                    return kernel.reshape(h, w, c, -1).permute(2, 0, 1, 3).reshape(h * w * c, -1).T
            else:
                def dense_layout(kernel):
                    return kernel.T
            named = {"kernel": (module.weight, dense_layout), "bias": (module.bias, as_is)}
        else:
            continue
        weights.update({f"{name}/{key}": value for key, value in named.items() if value[0] is not None})
    return weights
