x = -2 ^ 2 & "a" + 1 Mod 3 \ 2
If Not x And y Or z Xor 1 Eqv 2 Imp 3 Then r = 1
