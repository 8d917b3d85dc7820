' Logging of connections and deliveries with EventLog.Write
Option Explicit
Dim iConnections : iConnections = 0

Function Pad(n)
   Pad = Right("00" & n, 2)
End Function

Function Stamp()
   Dim d : d = Now
   Stamp = Year(d) & "-" & Pad(Month(d)) & "-" & Pad(Day(d)) & " " & Pad(Hour(d)) & ":" & Pad(Minute(d))
End Function

Sub OnClientConnect(oClient)
   iConnections = iConnections + 1
   EventLog.Write Stamp() & " connect #" & iConnections & " from " & oClient.IPAddress & ":" & oClient.Port
   If oClient.Port = 25 And Not oClient.IPAddress = "127.0.0.1" And iConnections Mod 2 = 0 Then
      EventLog.Write "even connection on port 25"
   End If
End Sub

Sub OnDeliveryFailed(oMessage, sRecipient, sErrorMessage)
   Dim sLine
   sLine = "Delivery of " & oMessage.Filename & " to " & sRecipient & " failed: "
   sLine = sLine & Replace(sErrorMessage, vbCrLf, " ")
   EventLog.Write sLine
End Sub
