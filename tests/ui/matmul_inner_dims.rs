use stackgrad::Matrix;

fn main() {
    let a = Matrix::<f64, 2, 3>::zeros();
    let b = Matrix::<f64, 4, 2>::zeros();
    let _c = a.matmul(&b);
}
