//! Normalization layers against PyTorch (float64): forward, input and
//! parameter gradients in training mode, the running statistics after one
//! step, and evaluation mode. The literals below are what this script
//! (`scripts/reference/norm.py`, PyTorch 2.15) prints:
//!
//! ```python
//! import torch
//! torch.set_printoptions(precision=17)
//! def arr(t):
//!     t = t.detach().double()
//!     if t.dim() == 1: return "[" + ", ".join(repr(float(v)) for v in t) + "]"
//!     return "[" + ", ".join(arr(r) for r in t) + "]"
//! # BatchNorm1d(3), training on the 3 real rows of a batch
//! x = torch.tensor([[0.5, -1.2, 3.0], [1.5, 0.3, -2.0], [-0.7, 2.2, 0.1]], dtype=torch.float64, requires_grad=True)
//! bn = torch.nn.BatchNorm1d(3).double()
//! with torch.no_grad():
//!     bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0], dtype=torch.float64)); bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64))
//! dy = torch.tensor([[0.3, -0.1, 0.7], [-0.2, 0.5, 0.4], [0.9, -0.6, -0.8]], dtype=torch.float64)
//! y = bn(x); y.backward(dy)
//! print("bn1d y", arr(y)); print("bn1d dx", arr(x.grad)); print("bn1d dw", arr(bn.weight.grad)); print("bn1d db", arr(bn.bias.grad))
//! print("bn1d rm", arr(bn.running_mean)); print("bn1d rv", arr(bn.running_var))
//! bn.eval(); print("bn1d eval", arr(bn(x)))
//! # BatchNorm2d(2) on 2 images 2x3x3
//! g = torch.Generator().manual_seed(0)
//! x2 = (torch.rand(2, 2, 3, 3, generator=g, dtype=torch.float64) * 4 - 2).requires_grad_()
//! dy2 = torch.rand(2, 2, 3, 3, generator=g, dtype=torch.float64) - 0.5
//! bn2 = torch.nn.BatchNorm2d(2).double()
//! with torch.no_grad():
//!     bn2.weight.copy_(torch.tensor([0.7, -1.3], dtype=torch.float64)); bn2.bias.copy_(torch.tensor([0.05, 0.4], dtype=torch.float64))
//! y2 = bn2(x2); y2.backward(dy2)
//! print("bn2d x", arr(x2.reshape(-1))); print("bn2d dy", arr(dy2.reshape(-1)))
//! print("bn2d y", arr(y2.reshape(-1))); print("bn2d dx", arr(x2.grad.reshape(-1)))
//! print("bn2d dw", arr(bn2.weight.grad)); print("bn2d db", arr(bn2.bias.grad))
//! print("bn2d rm", arr(bn2.running_mean)); print("bn2d rv", arr(bn2.running_var))
//! bn2.eval(); print("bn2d eval", arr(bn2(x2).reshape(-1)))
//! # LayerNorm(4) on 2 rows
//! x3 = torch.tensor([[0.5, -1.2, 3.0, 0.25], [1.5, 0.3, -2.0, 4.0]], dtype=torch.float64, requires_grad=True)
//! ln = torch.nn.LayerNorm(4).double()
//! with torch.no_grad():
//!     ln.weight.copy_(torch.tensor([1.5, -0.5, 2.0, 0.8], dtype=torch.float64)); ln.bias.copy_(torch.tensor([0.1, 0.2, -0.3, 0.0], dtype=torch.float64))
//! dy3 = torch.tensor([[0.3, -0.1, 0.7, 0.2], [-0.2, 0.5, 0.4, -0.9]], dtype=torch.float64)
//! y3 = ln(x3); y3.backward(dy3)
//! print("ln y", arr(y3)); print("ln dx", arr(x3.grad)); print("ln dw", arr(ln.weight.grad)); print("ln db", arr(ln.bias.grad))
//! ```

use stackgrad::nn::{BatchNorm1d, BatchNorm2d, Ctx, Layer, LayerNorm, Params};
use stackgrad::{Images, Matrix};

/// Relative agreement to 1e-10 (absolute below 1e-12).
fn close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs();
        assert!(
            err <= 1e-10 * w.abs() || err < 1e-12,
            "{what}[{i}]: {g} vs PyTorch {w} (error {err:e})"
        );
    }
}

#[test]
fn batch_norm_1d_matches_pytorch_and_ignores_padding_rows() {
    let mut bn = BatchNorm1d::<f64, 3>::new();
    bn.weight = [1.5, -0.5, 2.0];
    bn.bias = [0.1, 0.2, -0.3];
    // Three real rows and a padding row that must not enter the statistics.
    let x = Matrix::from_array([
        [0.5, -1.2, 3.0],
        [1.5, 0.3, -2.0],
        [-0.7, 2.2, 0.1],
        [100.0, -50.0, 7.0],
    ]);
    let dy = Matrix::from_array([
        [0.3, -0.1, 0.7],
        [-0.2, 0.5, 0.4],
        [0.9, -0.6, -0.8],
        [0.0, 0.0, 0.0],
    ]);
    let (mut y, mut cache) = bn.forward(&x);
    bn.forward_train(&x, &Ctx::new(3, 0, 0), &mut y, &mut cache);
    close(
        &y.as_slice()[..9],
        &[
            0.21118671022080027,
            0.7870037654806075,
            2.2691875449880228,
            1.878987363532805,
            0.24791867473311088,
            -2.6090166543563242,
            -1.7901740737536052,
            -0.4349224402137183,
            -0.5601708906316984,
        ],
        "y",
    );
    let mut grads = bn.zeros_like();
    let dx = bn.backward(&x, &y, &cache, &dy, &mut grads);
    close(
        &dx.as_slice()[..9],
        &[
            -6.872719925131625e-07,
            0.10936383158019475,
            0.3591715434336518,
            -1.09963518802106e-05,
            -0.19570464003229915,
            0.49599757087995894,
            1.1683623872700618e-05,
            0.08634080845210441,
            -0.8551691143136109,
        ],
        "dx",
    );
    assert_eq!(dx.row(3), &[0.0; 3], "the padding row gets no gradient");
    close(
        &grads.weight,
        &[-1.3490654173457104, -0.6924248498934513, 0.5414806661272225],
        "dweight",
    );
    close(
        &grads.bias,
        &[1.0, -0.19999999999999996, 0.30000000000000004],
        "dbias",
    );
    assert_eq!(
        (grads.running_mean, grads.running_var),
        ([0.0; 3], [0.0; 3])
    );
    bn.update(&x, &cache);
    close(
        &bn.running_mean,
        &[
            0.043333333333333335,
            0.04333333333333334,
            0.036666666666666674,
        ],
        "running_mean",
    );
    close(
        &bn.running_var,
        &[1.0213333333333334, 1.1903333333333335, 1.5303333333333335],
        "running_var",
    );
    close(
        &bn.infer(&x).as_slice()[..9],
        &[
            0.7778048814970958,
            0.7697987070611535,
            4.49088850498159,
            2.2620491475491304,
            0.08237399344850183,
            -3.5927253954372906,
            -1.0032882377653456,
            -0.7883639771275238,
            -0.19760755726136084,
        ],
        "eval",
    );
}

#[test]
fn batch_norm_2d_matches_pytorch() {
    let mut bn = BatchNorm2d::<f64, 2>::new();
    bn.weight = [0.7, -1.3];
    bn.bias = [0.05, 0.4];
    let x = Images::<f64, 2, 2, 3, 3>::from_slice(&[
        1.8802120072262123,
        0.8312794575991518,
        -0.16246822749019652,
        1.6829907364878411,
        0.5800964804910591,
        1.1645915687212147,
        -1.2855752991969962,
        -0.5955695024242864,
        0.3253636792302981,
        -0.8470564314553992,
        -0.1885246044755431,
        -1.2928018951851437,
        -0.5789329666427743,
        0.4876209947181107,
        -0.07260639687316583,
        -0.2367980038225621,
        -0.37087370254223373,
        -1.1782456261536516,
        0.6601527030005978,
        1.139495601820471,
        -1.1585341003264618,
        0.7069564836707163,
        -1.5610589590502157,
        0.09500823760897381,
        -1.0959191882464379,
        0.2329723015209031,
        0.3501158473457875,
        0.7277827427208337,
        0.9815046423103455,
        -1.089377453612475,
        1.239569065727891,
        0.5223612535823401,
        -1.2164474171631685,
        -1.3890950484882865,
        -0.07397399112509895,
        1.6700232499596859,
    ])
    .unwrap();
    let dy = Images::<f64, 2, 2, 3, 3>::from_slice(&[
        0.0720397101981094,
        -0.019170576816092466,
        0.29605860834048814,
        -0.13202979567051432,
        -0.22781628939463527,
        -0.4585605133301839,
        0.2486882683183439,
        -0.1582441473917634,
        0.03822500855447397,
        -0.03363458113213247,
        0.3634864607582904,
        -0.45894062486355836,
        0.4972603835252126,
        0.37966409923898103,
        0.2629971687438133,
        -0.2441002682332739,
        -0.31039192249809777,
        0.4877646697951884,
        0.279601876763762,
        -0.13812065348645897,
        0.06584385960117922,
        0.24119969099454308,
        -0.4955370546829676,
        0.08360463309769917,
        0.06971327686673046,
        -0.4517146707762135,
        -0.3369954504004742,
        0.49868096272729956,
        0.10066697577049799,
        -0.350860279785696,
        -0.10586308785837084,
        0.3634036173086611,
        -0.3888308173848958,
        0.30952595326662014,
        0.2889851942984908,
        0.2976543949243411,
    ])
    .unwrap();
    let (y, cache) = bn.forward(&x);
    close(
        y.as_slice(),
        &[
            1.2355602263924588,
            0.4907499666155672,
            -0.21487545395817487,
            1.0955203106281886,
            0.31239373341646626,
            0.7274232209252678,
            -1.0123544435582372,
            -0.5224054979138635,
            0.13151689443556247,
            1.382669274496957,
            0.43882308811209186,
            2.0215376462340484,
            0.9983791014550493,
            -0.5302681829455803,
            0.27268235854425643,
            0.5080113368964764,
            0.7001764407515391,
            1.8573489263847345,
            0.36923885268108053,
            0.7096034539313453,
            -0.9221469384457565,
            0.40247257781607204,
            -1.2079657403308623,
            -0.03205043539513048,
            -0.8776862827545865,
            0.06591301355938443,
            0.14909254195521815,
            -0.8744819941556904,
            -1.2381310047557654,
            1.729977883243721,
            -1.6080039735404772,
            -0.5800599462281603,
            1.9121019592377801,
            2.159550604448936,
            0.27464247431440647,
            -2.224955992494324,
        ],
        "y",
    );
    let mut grads = bn.zeros_like();
    let dx = bn.backward(&x, &y, &cache, &dy, &mut grads);
    close(
        dx.as_slice(),
        &[
            0.10583349840775376,
            0.032073947034550306,
            0.24738602317398095,
            -0.04076022992476268,
            -0.1182318928654802,
            -0.27706339124735935,
            0.20411965538160282,
            -0.07891217950797216,
            0.06849044649097344,
            0.08681817910418581,
            -0.369738076450495,
            0.6201611087374865,
            -0.6282374942668036,
            -0.2772917778923909,
            -0.2058868737712018,
            0.492835009298116,
            0.5649187201114994,
            -0.7171209050702908,
            0.24275443337640337,
            -0.049745462997332644,
            0.07537759069790462,
            0.215887716625066,
            -0.32669087671093106,
            0.09873769072563549,
            0.0786620348099967,
            -0.2801907892414564,
            -0.1977282142285728,
            -0.40680171238535834,
            0.2070461241179076,
            0.50004329094218,
            0.5471906936533137,
            -0.248045099937085,
            0.5327336335590289,
            -0.49771782622848354,
            -0.24336830945327237,
            0.042461315931663114,
        ],
        "dx",
    );
    close(
        &grads.weight,
        &[-0.214286701548806, 1.9480882889065227],
        "dweight",
    );
    close(
        &grads.bias,
        &[-1.0232142192139744, 1.9574682986013714],
        "dbias",
    );
    bn.update(&x, &cache);
    close(
        &bn.running_mean,
        &[0.02105616571104796, -0.01614373104733498],
        "running_mean",
    );
    close(
        &bn.running_var,
        &[1.00290086339059, 0.9871076098508715],
        "running_var",
    );
    close(
        bn.infer(&x).as_slice(),
        &[
            1.3495191021447155,
            0.6163326447948966,
            -0.07828050739424237,
            1.2116647044924478,
            0.44075990925728625,
            0.8493122830302262,
            -0.8633137256140484,
            -0.38101111629327555,
            0.26270590550501804,
            1.4872121562384557,
            0.6255526735866602,
            2.0704501865599654,
            1.1363845781139434,
            -0.2591536432977225,
            0.47387887636008647,
            0.6887162605281738,
            0.8641483238876629,
            1.9205584251231793,
            0.49671788118927224,
            0.8317706183423809,
            -0.7745140343751047,
            0.5294329477131424,
            -1.0558722354032215,
            0.10169127188187371,
            -0.7307472491975968,
            0.19812586464680956,
            0.28000726054331404,
            -0.5733945638707341,
            -0.9053783371385629,
            1.80427839059968,
            -1.2430441088790047,
            -0.3046097203675663,
            1.9705437623977577,
            2.196445476777934,
            0.4756683123559177,
            -1.8062741829537914,
        ],
        "eval",
    );
}

#[test]
fn layer_norm_matches_pytorch() {
    let mut ln = LayerNorm::<f64, 4>::new();
    ln.weight = [1.5, -0.5, 2.0, 0.8];
    ln.bias = [0.1, 0.2, -0.3, 0.0];
    let x = Matrix::from_array([[0.5, -1.2, 3.0, 0.25], [1.5, 0.3, -2.0, 4.0]]);
    let dy = Matrix::from_array([[0.3, -0.1, 0.7, 0.2], [-0.2, 0.5, 0.4, -0.9]]);
    let (y, cache) = ln.forward(&x);
    close(
        y.as_slice(),
        &[
            -0.03654064495538912,
            0.8082265093467336,
            2.8280220480689153,
            -0.20522472696325159,
            0.48125416058126275,
            0.3501910329562551,
            -3.0265449059750917,
            1.127588062810038,
        ],
        "y",
    );
    assert_eq!(ln.infer(&x), y, "layer norm is the same in both modes");
    let mut grads = ln.zeros_like();
    let dx = ln.backward(&x, &y, &cache, &dy, &mut grads);
    close(
        dx.as_slice(),
        &[
            -0.012195486914263809,
            0.10423737508323655,
            0.056073467610094685,
            -0.14811535577906756,
            -0.02247851570883938,
            -0.13433844121751343,
            0.09220883677525113,
            0.06460812015110162,
        ],
        "dx",
    );
    close(
        &grads.weight,
        &[
            -0.07814201706857954,
            -0.028545731086908374,
            0.549498735629102,
            -1.3198427524021057,
        ],
        "dweight",
    );
    close(&grads.bias, &[0.09999999999999998, 0.4, 1.1, -0.7], "dbias");
}

#[test]
fn zero_variance_features_stay_finite() {
    let bn = BatchNorm1d::<f32, 2>::new();
    let x = Matrix::<f32, 4, 2>::from_fn(|r, c| if c == 0 { 3.0 } else { r as f32 });
    let (y, cache) = bn.forward(&x);
    assert!(y.as_slice().iter().all(|v| v.is_finite()));
    assert!(y.as_slice().iter().step_by(2).all(|&v| v == 0.0));
    let dx = bn.backward(&x, &y, &cache, &Matrix::splat(1.0), &mut bn.zeros_like());
    assert!(dx.as_slice().iter().all(|v| v.is_finite()));
    let ln = LayerNorm::<f64, 3>::new();
    assert!(
        ln.infer(&Matrix::<f64, 1, 3>::splat(5.0))
            .as_slice()
            .iter()
            .all(|&v| v == 0.0)
    );
}

#[test]
fn invalid_settings_are_errors_naming_the_setting() {
    let e = BatchNorm1d::<f32, 2>::with(1.5, 1e-5).unwrap_err();
    assert_eq!(
        e.to_string(),
        "BatchNorm1d: momentum = 1.5 must be in [0, 1]"
    );
    let e = BatchNorm2d::<f32, 2>::with(0.1, -1e-5).unwrap_err();
    assert_eq!(
        e.to_string(),
        "BatchNorm2d: eps = -0.00001 must be positive and finite"
    );
    assert!(LayerNorm::<f64, 2>::with_eps(f64::NAN).is_err());
    assert!(BatchNorm1d::<f64, 2>::with(0.0, 1e-3).is_ok());
}
