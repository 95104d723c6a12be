"""Static int8 models exported in ONNX's QDQ form run in onnxruntime like in Rosenblatt."""

import io

import numpy as np
import pytest

import rosenblatt as torch
import rosenblatt.ao.quantization as tq
from rosenblatt.models import cnn3, lenet5

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _quantized(name):
    torch.manual_seed(0)
    net = cnn3() if name == "cnn3" else lenet5()
    model = torch.nn.Sequential(tq.QuantStub(), net, tq.DeQuantStub()).eval()
    if name == "cnn3":
        groups = [[f"1.features.{i}.{j}" for j in range(3)] for i in range(3)]
        groups.append(["1.classifier.1", "1.classifier.2"])
    else:
        groups = [["1.features.0", "1.features.1"], ["1.features.3", "1.features.4"],
                  ["1.classifier.1", "1.classifier.2"], ["1.classifier.3", "1.classifier.4"]]
    model = tq.fuse_modules(model, groups)
    model.qconfig = tq.get_default_qconfig("x86")
    prepared = tq.prepare(model)
    for _ in range(2):  # calibration
        prepared(torch.rand(16, 1, 28, 28))
    return model, tq.convert(prepared)


@pytest.mark.parametrize("name", ["cnn3", "lenet5"])
def test_qdq_export_matches_rosenblatt_int8(name):
    float_model, model = _quantized(name)
    buf = io.BytesIO()
    torch.onnx.export(model, (torch.rand(2, 1, 28, 28),), buf,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    ops = [n.op_type for n in proto.graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    assert any(i.data_type == onnx.TensorProto.INT8 for i in proto.graph.initializer)
    float_size = len(torch.onnx.export(float_model, (torch.rand(2, 1, 28, 28),),
                                       None).SerializeToString())
    assert len(buf.getvalue()) < 0.3 * float_size  # int8 weights
    session = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    x = torch.rand(5, 1, 28, 28)
    got, ref = session.run(None, {"input": x.numpy()})[0], model(x).numpy()
    # onnxruntime's int8 kernels round on their own: equal, or one output step apart
    step = model[1].classifier[-1].scale  # the last layer's output step
    steps = np.abs(got - ref) / step
    assert steps.max() < 1.01 and (steps < 0.01).mean() > 0.8
