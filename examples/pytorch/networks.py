"""NAS Studio's built-in children in PyTorch: a tfjs model's layers (their description: name, className,
config, inputs, outputShape) rebuilt one by one, and the description of a macro or cell architecture's
graph as src/engine/model/macro.ts and cell.ts build it, or of a nasbench201 cell in NAS-Bench-201's network. examples/pytorch/train.py trains these; the
benches (bench/training_torch.py, bench/reference_torch.py) rebuild the descriptions bench/training-nets.ts
describeModel writes of the tfjs models themselves.

TensorFlow 'same' padding becomes explicit (possibly asymmetric) padding; average pooling divides by the
pixels inside the image, as TensorFlow does; separable convs are depthwise + pointwise; batch norm takes
its epsilon and momentum (tfjs momentum m is PyTorch's 1 - m); the classifier's softmax is left to the loss,
so forward returns logits. Flatten reads channels first (tfjs: channels last), the same values in another
order for a classifier drawn on its own. Weights start as tfjs draws them: He normal truncated at two deviations for
convolutions, Glorot uniform for the classifier, zero biases, with tfjs's fans (its depthwise kernels count
every input channel in the fan-in). The draws differ; the scales are the same. Standard library only until
build is handed the torch module.

A nasbench201 architecture is described as NAS-Bench-201 builds it (Dong & Yang 2020, its TinyNetwork with
the cell's InferCell), its weights drawn as above rather than as PyTorch's defaults.
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
            elif kind == "Zeros":
                y = torch.zeros_like(x)
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


class _Description:
    """Layers appended as a tfjs network builder applies them; a tensor is the name of the layer that made it."""

    def __init__(self, image_shape):
        self.layers = []
        self.shapes = {}
        self.image = self.add("InputLayer", {}, [], list(image_shape))

    def add(self, kind, config, inputs, shape):
        name = f"{kind}_{len(self.layers)}"
        self.layers.append({"name": name, "className": kind, "config": config, "inputs": inputs, "outputShape": shape})
        self.shapes[name] = shape
        return name

    def strided(self, x, stride, channels):
        height, width, _ = self.shapes[x]
        return [-(-height // stride), -(-width // stride), channels]

    def conv(self, x, filters, kernel, stride, before_norm=False, padding="same"):
        """layers.ts conv: ReLU follows, or with before_norm batch norm: then no activation and no bias."""
        config = {"filters": filters, "kernelSize": list(kernel), "strides": [stride, stride], "padding": padding,
                  "useBias": not before_norm, "activation": None if before_norm else "relu"}
        if padding == "same":
            shape = self.strided(x, stride, filters)
        else:
            height, width, _ = self.shapes[x]
            shape = [(height - kernel[0]) // stride + 1, (width - kernel[1]) // stride + 1, filters]
        return self.add("Conv2D", config, [x], shape)

    def separable_conv(self, x, filters, size, stride, before_norm=False):
        config = {"filters": filters, "kernelSize": [size, size], "strides": [stride, stride], "padding": "same",
                  "depthMultiplier": 1, "useBias": not before_norm, "activation": None if before_norm else "relu"}
        return self.add("SeparableConv2D", config, [x], self.strided(x, stride, filters))

    def batch_norm(self, x):
        return self.add("BatchNormalization", {"epsilon": 1e-5, "momentum": 0.9}, [x], self.shapes[x])

    def relu(self, x):
        return self.add("ReLU", {}, [x], self.shapes[x])

    def pool(self, kind, x, stride, size=3):
        config = {"poolSize": [size, size], "strides": [stride, stride], "padding": "same"}
        return self.add(kind, config, [x], self.strided(x, stride, self.shapes[x][2]))

    def zero_pad(self, x, pixels):
        height, width, channels = self.shapes[x]
        padding = [[pixels, pixels], [pixels, pixels]]
        return self.add("ZeroPadding2D", {"padding": padding}, [x], [height + 2 * pixels, width + 2 * pixels, channels])

    def zeros(self, x):
        return self.add("Zeros", {}, [x], self.shapes[x])

    def add_up(self, xs):
        return self.add("Add", {}, xs, self.shapes[xs[0]])

    def concat(self, xs):
        height, width, _ = self.shapes[xs[0]]
        return self.add("Concatenate", {}, xs, [height, width, sum(self.shapes[x][2] for x in xs)])

    def pad_and_concat(self, xs):
        """pad-and-concat.ts: inputs of different sizes are zero-padded (centred) to the largest, then concatenated."""
        if len(xs) == 1:
            return xs[0]
        height = max(self.shapes[x][0] for x in xs)
        width = max(self.shapes[x][1] for x in xs)
        padded = []
        for x in xs:
            h, w, channels = self.shapes[x]
            if (h, w) != (height, width):
                top, left = (height - h) // 2, (width - w) // 2
                padding = [[top, height - h - top], [left, width - w - left]]
                x = self.add("ZeroPadding2D", {"padding": padding}, [x], [height, width, channels])
            padded.append(x)
        return self.concat(padded)

    def classify(self, x, classes, head):
        """layers.ts classify; `auto` pools from 16x16 images up and flattens below (parameters.ts resolveHead)."""
        image_height, image_width, _ = self.shapes[self.image]
        if head == "auto":
            head = "gap" if image_height >= 16 and image_width >= 16 else "flatten"
        height, width, channels = self.shapes[x]
        if head == "gap":
            x = self.add("GlobalAveragePooling2D", {}, [x], [channels])
        else:
            x = self.add("Flatten", {}, [x], [height * width * channels])
        return self.add("Dense", {"units": classes, "activation": "softmax"}, [x], [classes])


def _macro(net, graph, space, classes):
    """macro.ts: each layer a convolution of the concatenated outputs it reads (then batch norm and ReLU)."""
    outputs = []
    for layer in graph["layers"]:
        x = net.pad_and_concat([outputs[j] for j in layer["inputs"]]) if layer["inputs"] else net.image
        kernel = (layer["filterHeight"], layer["filterWidth"])
        stride = layer.get("stride", 1)
        if space.get("batch_norm", True):
            outputs.append(net.relu(net.batch_norm(net.conv(x, layer["filters"], kernel, stride, before_norm=True))))
        else:
            outputs.append(net.conv(x, layer["filters"], kernel, stride))
    read = {j for layer in graph["layers"] for j in layer["inputs"]}
    ends = [outputs[i] for i in range(len(outputs)) if i not in read]
    return net.classify(net.pad_and_concat(ends), classes, space.get("head", "auto"))


def _cell_positions(space, image_height):
    """cell.ts cellStack: (filters, reduction, stride of the input from two cells back) per stacked cell."""
    positions = []
    filters = space["filters"]
    previous_height = last_height = height = image_height
    for stage in range(space["stages"]):
        if stage > 0:
            filters *= 2
        for reduction in [True] * (stage > 0) + [False] * space["cells_per_stage"]:
            if reduction:
                height = -(-height // 2)
            positions.append((filters, reduction, 2 if previous_height > last_height else 1))
            previous_height, last_height = last_height, height
    return positions


def _live_cells(graph, positions):
    """cell.ts liveCells: the cells whose output reaches the classifier."""
    def reads(k, state):
        return any(state in node["inputs"] for node in graph["reduction" if positions[k][1] else "normal"])

    live = [False] * len(positions)
    for k in reversed(range(len(positions))):
        live[k] = (k == len(positions) - 1 or (live[k + 1] and reads(k + 1, 1))
                   or (k + 2 < len(positions) and live[k + 2] and reads(k + 2, 0)))
    return live


def _cell_block(net, nodes, position, previous, last, batch_norm):
    """cell.ts buildCellBlock: the searched nodes between two 1x1 convolutions."""
    filters, reduction, previous_stride = position

    def relu_conv_norm(x, kernel, stride):
        return net.batch_norm(net.conv(net.relu(x), filters, (kernel, kernel), stride, before_norm=True))

    def separable(x, size, stride):
        # DARTS's: (ReLU, depthwise, pointwise, batch norm) twice, the second at stride 1.
        for step in (stride, 1):
            x = net.batch_norm(net.separable_conv(net.relu(x), filters, size, step, before_norm=True))
        return x

    def operate(operation, x, stride):
        if operation in ("conv3x3", "conv5x5"):
            size = int(operation[-1])
            return relu_conv_norm(x, size, stride) if batch_norm else net.conv(x, filters, (size, size), stride)
        if operation in ("sep_conv3x3", "sep_conv5x5"):
            size = int(operation[-1])
            return separable(x, size, stride) if batch_norm else net.separable_conv(x, filters, size, stride)
        if operation == "max_pool":
            return net.pool("MaxPooling2D", x, stride)
        if operation == "avg_pool":
            return net.pool("AveragePooling2D", x, stride)
        if operation == "identity":
            # A strided identity cannot keep the shape; a 1x1 strided convolution reduces it (as in ENAS).
            if stride == 1:
                return x
            return relu_conv_norm(x, 1, stride) if batch_norm else net.conv(x, filters, (1, 1), stride)
        raise ValueError(f"cell operation {operation} is not built in PyTorch")

    def pointwise(x, stride):
        return relu_conv_norm(x, 1, stride) if batch_norm else net.conv(x, filters, (1, 1), stride)

    cell_inputs = [lambda: pointwise(previous, previous_stride), lambda: pointwise(last, 1)]
    states = {}

    def state(index):
        if index not in states:
            states[index] = cell_inputs[index]()
        return states[index]

    for j, node in enumerate(nodes):
        branches = [operate(operation, state(index), 2 if reduction and index < 2 else 1)
                    for index, operation in zip(node["inputs"], node["operations"])]
        states[j + 2] = net.add_up(branches)
    read = {index - 2 for node in nodes for index in node["inputs"] if index >= 2}
    ends = [states[j + 2] for j in range(len(nodes)) if j not in read]
    return pointwise(ends[0] if len(ends) == 1 else net.concat(ends), 1)


def _cells(net, graph, space, classes):
    """cell.ts cellNetwork: a stem, then stages of normal cells, a reduction cell before each stage after the first."""
    batch_norm = space.get("batch_norm", True)
    if batch_norm:
        stem = net.batch_norm(net.conv(net.image, space["filters"], (3, 3), 1, before_norm=True))
    else:
        stem = net.conv(net.image, space["filters"], (3, 3), 1)
    positions = _cell_positions(space, net.shapes[net.image][0])
    live = _live_cells(graph, positions)
    previous = last = stem
    for k, position in enumerate(positions):
        nodes = graph["reduction" if position[1] else "normal"]
        output = _cell_block(net, nodes, position, previous, last, batch_norm) if live[k] else None
        previous, last = last, output
    return net.classify(last, classes, space.get("head", "auto"))


def _nasbench201(net, graph, classes):
    """NAS-Bench-201's network: a stem, three stages of 5 cells at 16, 32 and 64 channels, each stage after the
    first entered through a residual reduction block, then batch norm, ReLU, global average pooling and a linear."""

    def relu_conv_norm(x, filters, kernel, stride):
        # NAS-Bench-201 pads by 1 on every side, where 'same' would pad a strided convolution on one side only.
        x = net.relu(x)
        if kernel == 3:
            x = net.zero_pad(x, 1)
        return net.batch_norm(net.conv(x, filters, (kernel, kernel), stride, before_norm=True, padding="valid"))

    def operate(operation, x, filters):
        if operation == "skip_connect":
            return x
        if operation in ("nor_conv_1x1", "nor_conv_3x3"):
            return relu_conv_norm(x, filters, int(operation[-1]), 1)
        if operation == "avg_pool_3x3":
            return net.pool("AveragePooling2D", x, 1)  # 'same' divides by the pixels inside: count_include_pad=False
        raise ValueError(f"nasbench201 operation {operation} is not built in PyTorch")

    def cell(x, filters):
        nodes = [x]
        for j in range(1, 4):
            branches = [operate(edge["operation"], nodes[edge["from"]], filters)
                        for edge in graph["edges"] if edge["to"] == j and edge["operation"] != "none"]
            # Every edge into the node is `none`: the node is zeros, as NAS-Bench-201's Zero operation makes it.
            nodes.append(net.add_up(branches) if len(branches) > 1 else branches[0] if branches else net.zeros(x))
        return nodes[3]

    def reduction(x, filters):
        """NAS-Bench-201's ResNetBasicblock at stride 2; its shortcut's 2x2 pooling is 'same' so odd sizes fit too."""
        residual = relu_conv_norm(relu_conv_norm(x, filters, 3, 2), filters, 3, 1)
        shortcut = net.conv(net.pool("AveragePooling2D", x, 2, size=2), filters, (1, 1), 1, before_norm=True)
        return net.add_up([shortcut, residual])

    x = net.batch_norm(net.conv(net.image, 16, (3, 3), 1, before_norm=True))
    for stage, filters in enumerate((16, 32, 64)):
        if stage > 0:
            x = reduction(x, filters)
        for _ in range(5):
            x = cell(x, filters)
    return net.classify(net.relu(net.batch_norm(x)), classes, "gap")


def describe(graph, space, image_shape, classes):
    """The layers of the built-in child of a macro or cell architecture (its `graph`, in `space`), or of
    NAS-Bench-201's network for a nasbench201 cell, for build."""
    net = _Description(image_shape)
    if graph["kind"] == "macro":
        _macro(net, graph, space, classes)
    elif graph["kind"] == "cell":
        _cells(net, graph, space, classes)
    elif graph["kind"] == "nasbench201":
        _nasbench201(net, graph, classes)
    else:
        raise ValueError(f"a {graph['kind']} architecture is not built in PyTorch here (macro, cell and nasbench201 are)")
    return net.layers
