import CLIC
import LICTensor

/// A plugin's custom op: its C kernels wrapped as a tape op. The plugin's
/// user data is released when the bridge goes (after the forward call if
/// nothing is recorded, else with the tape node).
final class CustomOpBridge {
    let name: String
    let forward: lic_custom_forward_fn
    let backward: lic_custom_backward_fn
    let userData: UnsafeMutableRawPointer?
    let releaseUserData: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?

    init(name: String, forward: lic_custom_forward_fn, backward: lic_custom_backward_fn, userData: UnsafeMutableRawPointer?,
         releaseUserData: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) {
        self.name = name
        self.forward = forward
        self.backward = backward
        self.userData = userData
        self.releaseUserData = releaseUserData
    }

    deinit { releaseUserData?(userData) }

    func apply(_ inputs: [Tensor], outputShape: [Int]) throws -> Tensor {
        try Tensor.custom(name: name, inputs: inputs, outputShape: outputShape, forward: { inputs, output in
            let views = inputs.map(\.cView)
            var outputView = try Tensor(zeros: outputShape).cView
            outputView.data = output.baseAddress
            try callPlugin(name, "custom forward") { error in
                views.withUnsafeBufferPointer { forward(userData, $0.baseAddress, UInt32($0.count), &outputView, error) }
            }
        }, backward: { [self] inputs, gradOutput in
            let views = inputs.map(\.cView)
            let gradients = try inputs.map { $0.requiresGrad ? try Tensor(zeros: $0.shape) : nil }
            let gradientViews = zip(inputs, gradients).map { input, gradient -> lic_tensor_view in
                var view = input.cView
                view.data = gradient?.cView.data
                return view
            }
            var gradOutputView = gradOutput.cView
            try callPlugin(name, "custom backward") { error in
                views.withUnsafeBufferPointer { inputViews in
                    gradientViews.withUnsafeBufferPointer { gradViews in
                        backward(userData, inputViews.baseAddress, UInt32(inputViews.count), &gradOutputView, gradViews.baseAddress, error)
                    }
                }
            }
            return gradients
        })
    }
}
