"""The trainer's own weights laid out for a PyTorch rebuild (examples/pytorch/networks.py), for the
reference's one-batch check (bench/reference_torch.py): both trainers start from the same weights."""


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
